/* libdw, libelf, libzstd and zlib, opened the first time one of their
 * functions is called rather than linked: linked, every fathom command paid
 * for loading them (with libdw's own liblzma and libbz2) and relocating them
 * at its start, `fathom record` too, whose command starts only after that
 * and which needs none of them unless it reads the dumps back or packs them.
 * Each function fathom uses is defined here under its own name, with the
 * prototype of the library's header (which the compiler checks against
 * the header's declaration), and calls the library's through a pointer found
 * at its first call. A library that cannot be loaded is said once on stderr,
 * and its functions then fail as they document (NULL, -1, an error code).
 *
 * Context: ordinary; safe from several threads (a race only finds the same
 * pointer twice). */
#define _GNU_SOURCE
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <libelf.h>
#include <zlib.h>
#include <zstd.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>

enum { LIB_DW, LIB_ELF, LIB_ZSTD, LIB_Z, LIB_N };

static const char *const sonames[LIB_N] = {"libdw.so.1", "libelf.so.1", "libzstd.so.1", "libz.so.1"};

/* The library's handle, or NULL (said once) when it cannot be loaded. */
static void *lazy_lib(int lib)
{
	static void *handles[LIB_N];
	static int said[LIB_N];
	void *h = __atomic_load_n(&handles[lib], __ATOMIC_ACQUIRE);
	if (h)
		return h;
	h = dlopen(sonames[lib], RTLD_NOW | RTLD_LOCAL);
	if (h)
		__atomic_store_n(&handles[lib], h, __ATOMIC_RELEASE);
	else if (!__atomic_exchange_n(&said[lib], 1, __ATOMIC_RELAXED))
		fprintf(stderr, "fathom: cannot load %s: %s\n", sonames[lib], dlerror());
	return h;
}

/* Whether *slot holds the library's `name`, found now if it did not. */
static bool lazy_sym(int lib, const char *name, void **slot)
{
	if (__atomic_load_n(slot, __ATOMIC_ACQUIRE))
		return true;
	void *h = lazy_lib(lib), *p = h ? dlsym(h, name) : NULL;
	if (!p) {
		if (h)
			fprintf(stderr, "fathom: %s has no %s\n", sonames[lib], name);
		return false;
	}
	__atomic_store_n(slot, p, __ATOMIC_RELEASE);
	return true;
}

/* `ret name params`, calling the library's `name` with `args`, or
 * returning `fail` when it is not there. */
#define LAZY(lib, fail, ret, name, params, args)                                                             \
	ret name params                                                                                      \
	{                                                                                                    \
		static ret(*fn) params;                                                                      \
		if (!lazy_sym(lib, #name, (void **)&fn))                                                     \
			return fail;                                                                         \
		return fn args;                                                                              \
	}
#define LAZY_VOID(lib, name, params, args)                                                                   \
	void name params                                                                                     \
	{                                                                                                    \
		static void(*fn) params;                                                                     \
		if (lazy_sym(lib, #name, (void **)&fn))                                                      \
			fn args;                                                                             \
	}

/* libdwfl: sessions, modules, and the standard callbacks (also passed as
 * pointers, which these serve as well as libdw's own). */
LAZY(LIB_DW, NULL, Dwfl *, dwfl_begin, (const Dwfl_Callbacks *cb), (cb))
LAZY_VOID(LIB_DW, dwfl_end, (Dwfl * dwfl), (dwfl))
LAZY_VOID(LIB_DW, dwfl_report_begin, (Dwfl * dwfl), (dwfl))
LAZY(LIB_DW, NULL, Dwfl_Module *, dwfl_report_elf,
     (Dwfl * dwfl, const char *name, const char *file_name, int fd, GElf_Addr base, bool add_p_vaddr),
     (dwfl, name, file_name, fd, base, add_p_vaddr))
LAZY(LIB_DW, -1, int, dwfl_report_end,
     (Dwfl * dwfl, int (*removed)(Dwfl_Module *, void *, const char *, Dwarf_Addr, void *arg), void *arg),
     (dwfl, removed, arg))
LAZY(LIB_DW, -1, int, dwfl_build_id_find_elf,
     (Dwfl_Module * mod, void **userdata, const char *name, Dwarf_Addr base, char **file_name, Elf **elfp),
     (mod, userdata, name, base, file_name, elfp))
LAZY(LIB_DW, -1, int, dwfl_standard_find_debuginfo,
     (Dwfl_Module * mod, void **userdata, const char *name, Dwarf_Addr base, const char *file_name,
      const char *debuglink_file, GElf_Word debuglink_crc, char **debuginfo_file_name),
     (mod, userdata, name, base, file_name, debuglink_file, debuglink_crc, debuginfo_file_name))
LAZY(LIB_DW, -1, int, dwfl_offline_section_address,
     (Dwfl_Module * mod, void **userdata, const char *modname, Dwarf_Addr base, const char *secname,
      GElf_Word shndx, const GElf_Shdr *shdr, Dwarf_Addr *addr),
     (mod, userdata, modname, base, secname, shndx, shdr, addr))
LAZY(LIB_DW, NULL, const char *, dwfl_module_info,
     (Dwfl_Module * mod, void ***userdata, Dwarf_Addr *start, Dwarf_Addr *end, Dwarf_Addr *dwbias,
      Dwarf_Addr *symbias, const char **mainfile, const char **debugfile),
     (mod, userdata, start, end, dwbias, symbias, mainfile, debugfile))
LAZY(LIB_DW, -1, int, dwfl_module_build_id, (Dwfl_Module * mod, const unsigned char **bits, GElf_Addr *vaddr),
     (mod, bits, vaddr))
LAZY(LIB_DW, NULL, Elf *, dwfl_module_getelf, (Dwfl_Module * mod, GElf_Addr *bias), (mod, bias))
LAZY(LIB_DW, NULL, Dwarf *, dwfl_module_getdwarf, (Dwfl_Module * mod, Dwarf_Addr *bias), (mod, bias))
LAZY(LIB_DW, NULL, Dwarf_CFI *, dwfl_module_eh_cfi, (Dwfl_Module * mod, Dwarf_Addr *bias), (mod, bias))
LAZY(LIB_DW, -1, int, dwfl_module_getsymtab, (Dwfl_Module * mod), (mod))
LAZY(LIB_DW, NULL, const char *, dwfl_module_getsym_info,
     (Dwfl_Module * mod, int ndx, GElf_Sym *sym, GElf_Addr *addr, GElf_Word *shndxp, Elf **elfp,
      Dwarf_Addr *bias),
     (mod, ndx, sym, addr, shndxp, elfp, bias))
LAZY(LIB_DW, NULL, const char *, dwfl_module_addrinfo,
     (Dwfl_Module * mod, GElf_Addr address, GElf_Off *offset, GElf_Sym *sym, GElf_Word *shndxp, Elf **elfp,
      Dwarf_Addr *bias),
     (mod, address, offset, sym, shndxp, elfp, bias))
LAZY(LIB_DW, NULL, Dwarf_Die *, dwfl_module_addrdie, (Dwfl_Module * mod, Dwarf_Addr addr, Dwarf_Addr *bias),
     (mod, addr, bias))
LAZY(LIB_DW, NULL, Dwfl_Line *, dwfl_module_getsrc, (Dwfl_Module * mod, Dwarf_Addr addr), (mod, addr))
LAZY(LIB_DW, NULL, const char *, dwfl_lineinfo,
     (Dwfl_Line * line, Dwarf_Addr *addr, int *linep, int *colp, Dwarf_Word *mtime, Dwarf_Word *length),
     (line, addr, linep, colp, mtime, length))
LAZY(LIB_DW, -1, ssize_t, dwelf_elf_gnu_build_id, (Elf * elf, const void **build_idp), (elf, build_idp))

/* libdw: DIEs, their attributes, line tables and call frames. */
LAZY(LIB_DW, -1, int, dwarf_tag, (Dwarf_Die * die), (die))
LAZY(LIB_DW, -1, int, dwarf_child, (Dwarf_Die * die, Dwarf_Die *result), (die, result))
LAZY(LIB_DW, -1, int, dwarf_siblingof, (Dwarf_Die * die, Dwarf_Die *result), (die, result))
LAZY(LIB_DW, (Dwarf_Off)-1, Dwarf_Off, dwarf_dieoffset, (Dwarf_Die * die), (die))
LAZY(LIB_DW, NULL, Dwarf_Die *, dwarf_diecu,
     (Dwarf_Die * die, Dwarf_Die *result, uint8_t *address_sizep, uint8_t *offset_sizep),
     (die, result, address_sizep, offset_sizep))
LAZY(LIB_DW, NULL, const char *, dwarf_diename, (Dwarf_Die * die), (die))
LAZY(LIB_DW, -1, int, dwarf_srclang, (Dwarf_Die * die), (die))
LAZY(LIB_DW, -1, int, dwarf_decl_line, (Dwarf_Die * decl, int *linep), (decl, linep))
LAZY(LIB_DW, -1, int, dwarf_haspc, (Dwarf_Die * die, Dwarf_Addr pc), (die, pc))
LAZY(LIB_DW, -1, ptrdiff_t, dwarf_ranges,
     (Dwarf_Die * die, ptrdiff_t offset, Dwarf_Addr *basep, Dwarf_Addr *startp, Dwarf_Addr *endp),
     (die, offset, basep, startp, endp))
LAZY(LIB_DW, NULL, Dwarf_Attribute *, dwarf_attr,
     (Dwarf_Die * die, unsigned int search_name, Dwarf_Attribute *result), (die, search_name, result))
LAZY(LIB_DW, NULL, Dwarf_Attribute *, dwarf_attr_integrate,
     (Dwarf_Die * die, unsigned int search_name, Dwarf_Attribute *result), (die, search_name, result))
LAZY(LIB_DW, -1, int, dwarf_formflag, (Dwarf_Attribute * attr, bool *return_bool), (attr, return_bool))
LAZY(LIB_DW, NULL, Dwarf_Die *, dwarf_formref_die, (Dwarf_Attribute * attr, Dwarf_Die *die_mem),
     (attr, die_mem))
LAZY(LIB_DW, NULL, const char *, dwarf_formstring, (Dwarf_Attribute * attrp), (attrp))
LAZY(LIB_DW, -1, int, dwarf_formudata, (Dwarf_Attribute * attr, Dwarf_Word *return_uval), (attr, return_uval))
LAZY(LIB_DW, -1, int, dwarf_getsrcfiles, (Dwarf_Die * cudie, Dwarf_Files **files, size_t *nfiles),
     (cudie, files, nfiles))
LAZY(LIB_DW, NULL, const char *, dwarf_filesrc,
     (Dwarf_Files * file, size_t idx, Dwarf_Word *mtime, Dwarf_Word *length), (file, idx, mtime, length))
LAZY(LIB_DW, -1, int, dwarf_cfi_addrframe, (Dwarf_CFI * cache, Dwarf_Addr address, Dwarf_Frame **frame),
     (cache, address, frame))

/* libelf. */
LAZY(LIB_ELF, EV_NONE, unsigned int, elf_version, (unsigned int version), (version))
LAZY(LIB_ELF, NULL, Elf *, elf_begin, (int fildes, Elf_Cmd cmd, Elf *ref), (fildes, cmd, ref))
LAZY(LIB_ELF, -1, int, elf_end, (Elf * elf), (elf))
LAZY(LIB_ELF, ELF_K_NONE, Elf_Kind, elf_kind, (Elf * elf), (elf))
LAZY(LIB_ELF, -1, int64_t, elf_update, (Elf * elf, Elf_Cmd cmd), (elf, cmd))
LAZY(LIB_ELF, -1, int, elf_getphdrnum, (Elf * elf, size_t *dst), (elf, dst))
LAZY(LIB_ELF, -1, int, elf_getshdrnum, (Elf * elf, size_t *dst), (elf, dst))
LAZY(LIB_ELF, -1, int, elf_getshdrstrndx, (Elf * elf, size_t *dst), (elf, dst))
LAZY(LIB_ELF, NULL, Elf_Scn *, elf_getscn, (Elf * elf, size_t index), (elf, index))
LAZY(LIB_ELF, NULL, Elf_Scn *, elf_nextscn, (Elf * elf, Elf_Scn *scn), (elf, scn))
LAZY(LIB_ELF, NULL, Elf_Scn *, elf_newscn, (Elf * elf), (elf))
LAZY(LIB_ELF, NULL, Elf_Data *, elf_getdata, (Elf_Scn * scn, Elf_Data *data), (scn, data))
LAZY(LIB_ELF, NULL, Elf_Data *, elf_newdata, (Elf_Scn * scn), (scn))
LAZY(LIB_ELF, NULL, char *, elf_strptr, (Elf * elf, size_t index, size_t offset), (elf, index, offset))
LAZY(LIB_ELF, -1, int, elf_compress, (Elf_Scn * scn, int type, unsigned int flags), (scn, type, flags))
LAZY(LIB_ELF, ELFCLASSNONE, int, gelf_getclass, (Elf * elf), (elf))
LAZY(LIB_ELF, NULL, GElf_Ehdr *, gelf_getehdr, (Elf * elf, GElf_Ehdr *dest), (elf, dest))
LAZY(LIB_ELF, NULL, GElf_Phdr *, gelf_getphdr, (Elf * elf, int ndx, GElf_Phdr *dst), (elf, ndx, dst))
LAZY(LIB_ELF, NULL, GElf_Shdr *, gelf_getshdr, (Elf_Scn * scn, GElf_Shdr *dst), (scn, dst))
LAZY(LIB_ELF, NULL, GElf_Sym *, gelf_getsym, (Elf_Data * data, int ndx, GElf_Sym *dst), (data, ndx, dst))
LAZY(LIB_ELF, NULL, void *, gelf_newehdr, (Elf * elf, int class), (elf, class))
LAZY(LIB_ELF, NULL, void *, gelf_newphdr, (Elf * elf, size_t phnum), (elf, phnum))
LAZY(LIB_ELF, 0, int, gelf_update_ehdr, (Elf * elf, GElf_Ehdr *src), (elf, src))
LAZY(LIB_ELF, 0, int, gelf_update_phdr, (Elf * elf, int ndx, GElf_Phdr *src), (elf, ndx, src))
LAZY(LIB_ELF, 0, int, gelf_update_shdr, (Elf_Scn * scn, GElf_Shdr *src), (scn, src))

/* libzstd: the dumps' chunks, and the names --pack saves. Its error
 * codes are the last values of size_t, (size_t)-1 the generic one. */
LAZY(LIB_ZSTD, 1, unsigned, ZSTD_isError, (size_t code), (code))
LAZY(LIB_ZSTD, "libzstd not loaded", const char *, ZSTD_getErrorName, (size_t code), (code))
LAZY(LIB_ZSTD, 0, size_t, ZSTD_compressBound, (size_t srcSize), (srcSize))
LAZY(LIB_ZSTD, (size_t)-1, size_t, ZSTD_compress,
     (void *dst, size_t dstCapacity, const void *src, size_t srcSize, int compressionLevel),
     (dst, dstCapacity, src, srcSize, compressionLevel))
LAZY(LIB_ZSTD, NULL, ZSTD_DCtx *, ZSTD_createDCtx, (void), ())
LAZY(LIB_ZSTD, 0, size_t, ZSTD_freeDCtx, (ZSTD_DCtx * dctx), (dctx))
LAZY(LIB_ZSTD, (size_t)-1, size_t, ZSTD_decompressDCtx,
     (ZSTD_DCtx * dctx, void *dst, size_t dstCapacity, const void *src, size_t srcSize),
     (dctx, dst, dstCapacity, src, srcSize))

/* zlib: the gzip of fathom export --format pprof. */
LAZY(LIB_Z, Z_STREAM_ERROR, int, deflateInit2_,
     (z_streamp strm, int level, int method, int windowBits, int memLevel, int strategy, const char *version,
      int stream_size),
     (strm, level, method, windowBits, memLevel, strategy, version, stream_size))
LAZY(LIB_Z, Z_STREAM_ERROR, int, deflate, (z_streamp strm, int flush), (strm, flush))
LAZY(LIB_Z, Z_STREAM_ERROR, int, deflateEnd, (z_streamp strm), (strm))
