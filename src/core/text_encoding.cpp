#include "velin/core/text_encoding.hpp"

#include <algorithm>
#include <cstdint>

#include "velin/core/i18n.hpp"

namespace velin {
namespace {

// The length of the well-formed UTF-8 sequence at s[i], or 0 when none starts there.
size_t SequenceAt(std::string_view s, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b = byte(i);
  if (b < 0x80) return 1;
  size_t n = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // the range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;  // overlong
    if (b == 0xED) hi = 0x9F;  // surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;  // overlong
    if (b == 0xF4) hi = 0x8F;  // past U+10FFFF
  } else {
    return 0;
  }
  if (s.size() - i < n) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int AlphabetValue(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

bool IsUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToUtf8(std::string_view s) {
  if (IsUtf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 8);
  for (size_t i = 0; i < s.size();) {
    const size_t n = SequenceAt(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

TextChar CharAt(std::string_view text, size_t i) {
  const auto byte = static_cast<uint8_t>(text[i]);
  const size_t n = SequenceAt(text, i);
  if (n == 0) return {.size = 1, .control = byte >= 0x80 && byte <= 0x9F};
  if (n == 1) return {.size = 1, .control = byte < 0x20 || byte == 0x7F};
  // U+0080 to U+009F: 0xC2 0x80 to 0xC2 0x9F.
  return {.size = n, .control = byte == 0xC2 && static_cast<uint8_t>(text[i + 1]) <= 0x9F};
}

std::string OneLine(std::string_view text) {
  const auto escaped = [&](size_t i, TextChar c) { return c.control && text[i] != '\t'; };
  bool plain = true;
  for (size_t i = 0; i < text.size() && plain;) {
    const TextChar c = CharAt(text, i);
    plain = !escaped(i, c);
    i += c.size;
  }
  if (plain) return std::string(text);
  std::string out;
  for (size_t i = 0; i < text.size();) {
    const TextChar c = CharAt(text, i);
    if (!escaped(i, c)) {
      out.append(text.substr(i, c.size));
    } else if (text[i] == '\n') {
      out += "\\n";
    } else if (text[i] == '\r') {
      out += "\\r";
    } else {
      static constexpr char kHex[] = "0123456789abcdef";
      for (size_t k = i; k < i + c.size; ++k) {
        const auto b = static_cast<uint8_t>(text[k]);
        out += "\\x";
        out += kHex[b >> 4];
        out += kHex[b & 15];
      }
    }
    i += c.size;
  }
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  const auto at = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(bytes[k])); };
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = at(i) << 16 | at(i + 1) << 8 | at(i + 2);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = at(i) << 16;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += "==";
  } else if (bytes.size() - i == 2) {
    const uint32_t v = at(i) << 16 | at(i + 1) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return Failure(std::string(Tr("invalid base64: length is not a multiple of 4")));
  size_t padding = 0;
  if (!text.empty() && text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      const bool pad_slot = i + 4 == text.size() && k >= 4 - padding;
      if (c == '=' && !pad_slot) return Failure(std::string(Tr("invalid base64 padding")));
      const int d = pad_slot ? (c == '=' ? 0 : -1) : AlphabetValue(c);
      if (d < 0) return Failure(std::string(Tr("invalid base64 character")));
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out += static_cast<char>(v >> 16);
    out += static_cast<char>((v >> 8) & 0xFF);
    out += static_cast<char>(v & 0xFF);
  }
  out.resize(out.size() - padding);
  // Unused low bits of the last character must be zero: one encoding per byte string, so a
  // flipped bit can never decode to the same bytes unnoticed.
  if (Base64Encode(out) != text) return Failure(std::string(Tr("non-canonical base64")));
  return out;
}

}  // namespace velin
