/* C++ names that DWARF leaves to be built: the scopes around a DIE, the
 * names of types and of lambda closure types, spelt as the Itanium demangler
 * spells them. Two lambdas of one function are then two functions
 * ("main::{lambda(double)#1}::operator()(double) const" and "#2"), whether
 * they were inlined or kept out of line. */
#define _GNU_SOURCE
#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

#include "die-names.h"
#include "symbols.h"

#define MAX_SCOPES 32
#define MAX_AUTO 16

/* The type a generic lambda's instance gave to each of its "auto:N"
 * parameters: printed as "auto:N" where the parameter's type is that type. */
struct autos {
	Dwarf_Off off[MAX_AUTO];
	const char *name[MAX_AUTO];
	int n, next;
};

static void type_print(FILE *f, Dwarf_Die *t, struct autos *au, int depth);

int die_parents(Dwarf_Die *die, Dwarf_Die *out, int max)
{
	/* A DIE's children lie between its offset and its next sibling's, so
	 * only the siblings along the path are visited, and DW_AT_sibling lets
	 * libdw skip over their subtrees. */
	Dwarf_Die cur;
	if (!dwarf_diecu(die, &cur, NULL, NULL))
		return -1;
	Dwarf_Off target = dwarf_dieoffset(die);
	int n = 0;
	for (;;) {
		Dwarf_Die child, sib;
		if (dwarf_child(&cur, &child) != 0)
			return -1;
		for (;;) {
			Dwarf_Off off = dwarf_dieoffset(&child);
			if (off == target)
				return n;
			if (off > target)
				return -1;
			int r = dwarf_siblingof(&child, &sib);
			if (r < 0)
				return -1;
			if (r > 0 || dwarf_dieoffset(&sib) > target)
				break;
			child = sib;
		}
		if (n == max)
			return -1;
		out[n++] = child;
		cur = child;
	}
}

/* The call operator of a closure type (the first, for a generic lambda
 * with several instances), or false. */
static bool closure_call(Dwarf_Die *type, Dwarf_Die *op)
{
	if (dwarf_child(type, op) != 0)
		return false;
	do {
		const char *n = dwarf_diename(op);
		if (dwarf_tag(op) == DW_TAG_subprogram && n && !strncmp(n, "operator()", 10) &&
		    (n[10] == '\0' || n[10] == '<'))
			return true;
	} while (dwarf_siblingof(op, op) == 0);
	return false;
}

bool die_is_closure(Dwarf_Die *type)
{
	Dwarf_Die op;
	return closure_call(type, &op);
}

static bool type_of(Dwarf_Die *die, Dwarf_Die *out)
{
	Dwarf_Attribute a;
	return dwarf_attr_integrate(die, DW_AT_type, &a) && dwarf_formref_die(&a, out);
}

/* DWARF's base type names as the demangler writes them. */
static const char *base_name(const char *n)
{
	static const char *const map[][2] = {
	    {"long int", "long"},
	    {"long unsigned int", "unsigned long"},
	    {"short int", "short"},
	    {"short unsigned int", "unsigned short"},
	    {"long long int", "long long"},
	    {"long long unsigned int", "unsigned long long"},
	    {"__int128 unsigned", "unsigned __int128"},
	    {"_Bool", "bool"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(n, map[i][0]))
			return map[i][1];
	return n;
}

/* "ns::Class<int>::" for the scopes parents[0..np) of a type. */
static void scopes_print(FILE *f, Dwarf_Die *parents, int np)
{
	/* an enclosing function's name is written qualified */
	int first = np;
	while (first > 0 && dwarf_tag(&parents[first - 1]) != DW_TAG_subprogram)
		first--;
	for (int i = first > 0 ? first - 1 : 0; i < np; i++) {
		if (die_scope_print(f, parents, i)) {
			fputs("::", f);
			continue;
		}
		if (dwarf_tag(&parents[i]) != DW_TAG_subprogram)
			continue;
		/* a type local to a function: the function's demangled name */
		Dwarf_Attribute a;
		const char *ln = dwarf_formstring(dwarf_attr_integrate(&parents[i], DW_AT_linkage_name, &a));
		char *d = symbols_demangle(ln);
		const char *n = d ? d : dwarf_formstring(dwarf_attr_integrate(&parents[i], DW_AT_name, &a));
		fprintf(f, "%s::", n ? n : "{unknown}");
		free(d);
	}
}

/* A function type's "R (" ... ")" around what stands inside (a "*"). */
static void function_type_print(FILE *f, Dwarf_Die *t, const char *inner, struct autos *au, int depth)
{
	Dwarf_Die r, c;
	if (type_of(t, &r))
		type_print(f, &r, au, depth + 1);
	else
		fputs("void", f);
	fprintf(f, " (%s)(", inner);
	bool first = true;
	if (dwarf_child(t, &c) == 0) {
		do {
			Dwarf_Die pt;
			if (dwarf_tag(&c) == DW_TAG_unspecified_parameters) {
				fputs(first ? "..." : ", ...", f);
				first = false;
			}
			if (dwarf_tag(&c) != DW_TAG_formal_parameter || !type_of(&c, &pt))
				continue;
			if (!first)
				fputs(", ", f);
			type_print(f, &pt, au, depth + 1);
			first = false;
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	fputc(')', f);
}

static void type_print(FILE *f, Dwarf_Die *t, struct autos *au, int depth)
{
	if (depth > 16) {
		fputs("...", f);
		return;
	}
	Dwarf_Off off = dwarf_dieoffset(t);
	if (au && au->next < au->n && au->off[au->next] == off) {
		fputs(au->name[au->next++], f);
		return;
	}
	Dwarf_Die in;
	bool has = type_of(t, &in);
	const char *n = dwarf_diename(t);
	switch (dwarf_tag(t)) {
	case DW_TAG_base_type:
	case DW_TAG_unspecified_type:
		fputs(n ? base_name(n) : "?", f);
		return;
	case DW_TAG_typedef:
		/* mangled names hold the type itself, never its typedef */
		if (has)
			type_print(f, &in, au, depth + 1);
		else
			fputs(n ? n : "?", f);
		return;
	case DW_TAG_pointer_type:
	case DW_TAG_reference_type:
	case DW_TAG_rvalue_reference_type: {
		const char *op = dwarf_tag(t) == DW_TAG_pointer_type	 ? "*"
				 : dwarf_tag(t) == DW_TAG_reference_type ? "&"
									 : "&&";
		if (has && dwarf_tag(&in) == DW_TAG_subroutine_type)
			function_type_print(f, &in, op, au, depth);
		else if (has) {
			type_print(f, &in, au, depth + 1);
			fputs(op, f);
		} else
			fprintf(f, "void%s", op);
		return;
	}
	case DW_TAG_const_type:
	case DW_TAG_volatile_type:
		if (has)
			type_print(f, &in, au, depth + 1);
		else
			fputs("void", f);
		fputs(dwarf_tag(t) == DW_TAG_const_type ? " const" : " volatile", f);
		return;
	case DW_TAG_array_type:
		if (has)
			type_print(f, &in, au, depth + 1);
		fputs(" []", f);
		return;
	case DW_TAG_subroutine_type:
		function_type_print(f, t, "", au, depth);
		return;
	case DW_TAG_structure_type:
	case DW_TAG_class_type:
	case DW_TAG_union_type:
	case DW_TAG_enumeration_type: {
		Dwarf_Die parents[MAX_SCOPES];
		int np = die_parents(t, parents, MAX_SCOPES - 1);
		if (np < 0)
			np = 0;
		scopes_print(f, parents, np);
		parents[np] = *t;
		if (!die_scope_print(f, parents, np))
			fputs(n ? n : "{unnamed type}", f);
		return;
	}
	default:
		fputs(n ? n : "?", f);
		return;
	}
}

/* Collects a generic lambda's "auto:N" template parameters of op. */
static void autos_get(Dwarf_Die *op, struct autos *au)
{
	Dwarf_Die c;
	au->n = au->next = 0;
	if (dwarf_child(op, &c) != 0)
		return;
	do {
		const char *n = dwarf_diename(&c);
		Dwarf_Die t;
		if (dwarf_tag(&c) != DW_TAG_template_type_parameter || !n || strncmp(n, "auto:", 5) ||
		    au->n == MAX_AUTO || !type_of(&c, &t))
			continue;
		/* GCC may describe each auto parameter twice */
		bool seen = false;
		for (int i = 0; i < au->n; i++)
			seen |= !strcmp(au->name[i], n);
		if (!seen) {
			au->off[au->n] = dwarf_dieoffset(&t);
			au->name[au->n++] = n;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

/* "(double, int*)": op's parameters but the object it is called on, with
 * top-level const dropped as mangling drops it; a generic lambda's auto
 * parameters as "auto:N" when `generic`. */
static void params_print(FILE *f, Dwarf_Die *op, bool generic)
{
	struct autos au = {.n = 0};
	if (generic)
		autos_get(op, &au);
	fputc('(', f);
	Dwarf_Die c;
	bool first = true;
	if (dwarf_child(op, &c) == 0) {
		do {
			Dwarf_Attribute a;
			bool art = false;
			Dwarf_Die t;
			if (dwarf_tag(&c) != DW_TAG_formal_parameter || !type_of(&c, &t))
				continue;
			if (dwarf_formflag(dwarf_attr(&c, DW_AT_artificial, &a), &art) == 0 && art)
				continue;
			while (
			    (dwarf_tag(&t) == DW_TAG_const_type || dwarf_tag(&t) == DW_TAG_volatile_type) &&
			    type_of(&t, &t))
				;
			if (!first)
				fputs(", ", f);
			type_print(f, &t, au.n ? &au : NULL, 0);
			first = false;
		} while (dwarf_siblingof(&c, &c) == 0);
	}
	fputc(')', f);
}

void die_call_print(FILE *f, Dwarf_Die *op)
{
	params_print(f, op, false);
	/* The object parameter points to a const closure unless the lambda
	 * is mutable. */
	Dwarf_Die c, t;
	if (dwarf_child(op, &c) != 0)
		return;
	do {
		Dwarf_Attribute a;
		bool art = false;
		if (dwarf_tag(&c) != DW_TAG_formal_parameter ||
		    dwarf_formflag(dwarf_attr(&c, DW_AT_artificial, &a), &art) != 0 || !art ||
		    !type_of(&c, &t))
			continue;
		while (dwarf_tag(&t) == DW_TAG_const_type && type_of(&t, &t))
			;
		if (dwarf_tag(&t) == DW_TAG_pointer_type && type_of(&t, &t) &&
		    dwarf_tag(&t) == DW_TAG_const_type)
			fputs(" const", f);
		return;
	} while (dwarf_siblingof(&c, &c) == 0);
}

/* Counts the closure types under die, in DIE order through blocks, up to
 * and including the one at target; *found when it was reached. */
static void closures_before(Dwarf_Die *die, Dwarf_Off target, int *n, bool *found, int depth)
{
	Dwarf_Die c;
	if (depth > 64 || dwarf_child(die, &c) != 0)
		return;
	do {
		int tag = dwarf_tag(&c);
		if ((tag == DW_TAG_structure_type || tag == DW_TAG_class_type) && !dwarf_diename(&c) &&
		    die_is_closure(&c)) {
			(*n)++;
			if (dwarf_dieoffset(&c) == target) {
				*found = true;
				return;
			}
		} else if (tag == DW_TAG_lexical_block) {
			closures_before(&c, target, n, found, depth + 1);
			if (*found)
				return;
		}
	} while (dwarf_siblingof(&c, &c) == 0);
}

/* "{lambda(double)#2}". GCC numbers the lambdas of a function in source
 * order, whatever their parameters (the demangler prints number + 1); the
 * closure types are in that order among the function's DIEs. Lambdas
 * outside any function are counted among their scope's. */
static void closure_print(FILE *f, Dwarf_Die *parents, int i)
{
	Dwarf_Die *closure = &parents[i], op, cu;
	Dwarf_Die *context = NULL;
	for (int j = i - 1; j >= 0 && !context; j--)
		if (dwarf_tag(&parents[j]) == DW_TAG_subprogram)
			context = &parents[j];
	if (!context && i > 0)
		context = &parents[i - 1];
	if (!context && dwarf_diecu(closure, &cu, NULL, NULL))
		context = &cu;
	int n = 0;
	bool found = false;
	if (context)
		closures_before(context, dwarf_dieoffset(closure), &n, &found, 0);
	fputs("{lambda", f);
	if (closure_call(closure, &op)) {
		const char *on = dwarf_diename(&op);
		params_print(f, &op, on && on[10] == '<');
	}
	if (found)
		fprintf(f, "#%d}", n);
	else
		fputs("}", f);
}

bool die_scope_print(FILE *f, Dwarf_Die *parents, int i)
{
	Dwarf_Die *p = &parents[i];
	const char *n = dwarf_diename(p);
	switch (dwarf_tag(p)) {
	case DW_TAG_namespace:
		fputs(n ? n : "(anonymous namespace)", f);
		return true;
	case DW_TAG_class_type:
	case DW_TAG_structure_type:
	case DW_TAG_union_type:
		if (n)
			fputs(n, f);
		else if (die_is_closure(p))
			closure_print(f, parents, i);
		else
			fputs("{unnamed type}", f);
		return true;
	default:
		return false;
	}
}
