# Turns a file into a C array so the default model (and adapt's anchors) ship inside the binary.
# Usage: cmake -DIN=models/default.json -DOUT=default_model.c [-DNAME=cm_default_model_json]
#        -P embed.cmake  (NAME: the array; NAME_len its length)
if(EXISTS ${IN})
  file(READ ${IN} hex HEX)
else()
  set(hex "")
endif()
string(LENGTH "${hex}" hexlen)
math(EXPR n "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
if(NOT NAME)
  set(NAME cm_default_model_json)
endif()
file(WRITE ${OUT} "/* Generated from ${IN} by cmake/embed.cmake; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char ${NAME}[] = {${body} 0x00};\n"
  "const size_t ${NAME}_len = ${n};\n")
