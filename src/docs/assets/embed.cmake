# Turns the docs site's assets into a C file of NUL-terminated arrays:
#   cmake -DDIR=src/docs/assets -DOUT=build/gen/docs_assets.c -P embed.cmake
# site.css -> sl_docs_asset_css, site.js -> sl_docs_asset_js.
set(text "/* Generated from src/docs/assets/ by embed.cmake: do not edit. */\n")
foreach(pair "site.css;css" "site.js;js")
  list(GET pair 0 file)
  list(GET pair 1 name)
  file(READ "${DIR}/${file}" hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
  string(REGEX REPLACE "((0x..,){24})" "\\1\n" bytes "${bytes}")
  string(APPEND text "const unsigned char sl_docs_asset_${name}[] = {\n${bytes}0x00};\n")
endforeach()
file(WRITE "${OUT}.tmp" "${text}")
file(RENAME "${OUT}.tmp" "${OUT}")
