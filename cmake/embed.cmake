# Turns a model file into a C array so the default model ships inside the binary.
# Usage: cmake -DIN=models/default.json -DOUT=default_model.c -P embed.cmake
if(EXISTS ${IN})
  file(READ ${IN} hex HEX)
else()
  set(hex "")
endif()
string(LENGTH "${hex}" hexlen)
math(EXPR n "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," body "${hex}")
file(WRITE ${OUT} "/* Generated from models/default.json by cmake/embed.cmake; do not edit. */\n"
  "#include <stddef.h>\n"
  "const unsigned char cm_default_model_json[] = {${body} 0x00};\n"
  "const size_t cm_default_model_json_len = ${n};\n")
