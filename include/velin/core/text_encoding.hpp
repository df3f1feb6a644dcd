// Bytes that must pass through JSON. velin's documents (snapshots, lock objects, the release
// registry and manifests, `--json` output) are UTF-8 JSON, but what they carry is often bytes
// from outside: a file name or a symlink's text in Latin-1, a `--reason` typed on a Latin-1
// terminal, an application directory's name. nlohmann-json refuses to serialise a string that
// is not UTF-8 (it throws, and velin died of it); these helpers tell such strings apart and
// give them a JSON form: ToUtf8 the lossy one for descriptive text, base64 the exact one for
// names that must come back byte for byte (docs/repository-format.md, docs/rollback-format.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "velin/core/error.hpp"

namespace velin {

// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing past
// U+10FFFF).
bool IsUtf8(std::string_view s);

// `s` with every byte that does not begin a well-formed sequence replaced by U+FFFD; `s` itself
// when it is UTF-8.
std::string ToUtf8(std::string_view s);

// `j` serialised as j.dump(indent) does, but a string that is not UTF-8 is written with U+FFFD
// for its invalid bytes instead of throwing: for the documents velin writes, whose text is
// descriptive (a reason, an error message, a host name) or, where it must come back exactly,
// base64 already.
// nlohmann::json and nlohmann::ordered_json alike.
template <typename Json>
std::string DumpJson(const Json& j, int indent = -1) {
  return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

// The character at text[i]: how many bytes it takes (a byte that begins no well-formed UTF-8
// sequence counts as one), and whether a terminal takes it for a control: C0 (below 0x20), DEL,
// C1 as the code points U+0080 to U+009F (0xC2 0x9B is CSI, which starts an escape sequence as
// ESC [ does), and a lone byte 0x80 to 0x9F (C1 to a terminal that takes 8-bit controls).
struct TextChar {
  size_t size = 1;
  bool control = false;
};
TextChar CharAt(std::string_view text, size_t i);

// `text` as one line: each control character but tab (CharAt: a newline or an escape sequence
// in a file name, a tool's multi-line message) as its C escape (\n, \r, \x1b; a C1 control
// byte by byte, \xc2\x9b), so that an error or a warning stays one line of the terminal and the
// log and sends nothing to the terminal.
std::string OneLine(std::string_view text);

// Standard base64 (RFC 4648, '=' padding).
std::string Base64Encode(std::string_view bytes);
// Strict: only the standard alphabet, '=' padding, and the one canonical encoding of the bytes
// (unused low bits zero), so that a changed character never decodes to the same bytes.
Result<std::string> Base64Decode(std::string_view text);

}  // namespace velin
