# Man pages, one per command and one for fathom, made at build time from the
# commands' own --help text (help2man.awk) and installed under share/man/man1.
find_program(FATHOM_AWK NAMES gawk mawk nawk awk)
if(CMAKE_CROSSCOMPILING OR NOT FATHOM_AWK)
  message(STATUS "fathom: no man pages (they need awk and a fathom that runs on the build host)")
  return()
endif()
set(FATHOM_MAN_DIR ${CMAKE_CURRENT_BINARY_DIR}/man)
file(MAKE_DIRECTORY ${FATHOM_MAN_DIR})
set(FATHOM_MAN_PAGES "")
# "" is fathom itself; the commands are those of main.c's table (keep them in step).
foreach(cmd "" record report mem flame export view lines wait pack diff check ctl)
  if(cmd)
    set(page ${FATHOM_MAN_DIR}/fathom-${cmd}.1)
  else()
    set(page ${FATHOM_MAN_DIR}/fathom.1)
  endif()
  add_custom_command(
    OUTPUT ${page}
    COMMAND ${CMAKE_COMMAND} -DFATHOM=$<TARGET_FILE:fathom> -DCMD=${cmd} -DVERSION=${PROJECT_VERSION}
            -DAWK=${FATHOM_AWK} -DOUT=${page} -P ${CMAKE_CURRENT_LIST_DIR}/make-man.cmake
    DEPENDS fathom ${CMAKE_CURRENT_LIST_DIR}/help2man.awk ${CMAKE_CURRENT_LIST_DIR}/make-man.cmake
    COMMENT "Making the man page of fathom ${cmd}"
    VERBATIM)
  list(APPEND FATHOM_MAN_PAGES ${page})
endforeach()
add_custom_target(fathom_man ALL DEPENDS ${FATHOM_MAN_PAGES})
install(FILES ${FATHOM_MAN_PAGES} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
