# Embeds the viewer (index.html, viewer.css, viewer.js, timeline.js) into the fathom command.
# Included from profiler/CMakeLists.txt, it adds a build step that writes a
# generated C source holding the three files as byte arrays; run as a script
# (cmake -P, with VIEWER_DIR and OUT set) it is that build step.

set(FATHOM_VIEWER_PARTS "index.html=html" "viewer.css=css" "viewer.js=js" "timeline.js=tljs")

if(CMAKE_SCRIPT_MODE_FILE)
  set(body "/* Generated at build time by viewer/embed.cmake from viewer/; not to be edited. */\n")
  string(APPEND body "#include <stddef.h>\n\n")
  foreach(part ${FATHOM_VIEWER_PARTS})
    string(REPLACE "=" ";" part "${part}")
    list(GET part 0 file)
    list(GET part 1 sym)
    file(READ "${VIEWER_DIR}/${file}" hex HEX)
    string(LENGTH "${hex}" nhex)
    math(EXPR len "${nhex} / 2")
    string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
    string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n" hex "${hex}")
    string(APPEND body "/* ${file} */\nconst unsigned char fathom_viewer_${sym}[] = {\n${hex}0x00\n};\n")
    string(APPEND body "const size_t fathom_viewer_${sym}_len = ${len};\n\n")
  endforeach()
  file(WRITE "${OUT}.tmp" "${body}")
  file(RENAME "${OUT}.tmp" "${OUT}")
  return()
endif()

set(FATHOM_VIEWER_SOURCES)
foreach(part ${FATHOM_VIEWER_PARTS})
  string(REPLACE "=" ";" part "${part}")
  list(GET part 0 file)
  list(APPEND FATHOM_VIEWER_SOURCES ${CMAKE_CURRENT_LIST_DIR}/${file})
endforeach()
set(FATHOM_VIEWER_C ${CMAKE_CURRENT_BINARY_DIR}/viewer-assets.c)
add_custom_command(
  OUTPUT ${FATHOM_VIEWER_C}
  COMMAND ${CMAKE_COMMAND} -DVIEWER_DIR=${CMAKE_CURRENT_LIST_DIR} -DOUT=${FATHOM_VIEWER_C}
          -P ${CMAKE_CURRENT_LIST_FILE}
  DEPENDS ${FATHOM_VIEWER_SOURCES} ${CMAKE_CURRENT_LIST_FILE}
  COMMENT "Embedding the viewer into fathom"
  VERBATIM)
target_sources(fathom PRIVATE ${FATHOM_VIEWER_C})
target_compile_definitions(fathom PRIVATE FATHOM_HAVE_VIEWER=1)
