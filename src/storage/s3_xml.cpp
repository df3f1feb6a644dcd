#include "velin/storage/s3_xml.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

#include "velin/core/i18n.hpp"

namespace velin::storage {
namespace {

struct ElementSpan {
  size_t content_begin = 0;
  size_t content_end = 0;
  size_t end = 0;  // just past the closing tag
};

bool IsNameEnd(char c) {
  return c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

// Does the tag name starting at `pos` equal `name`, with an optional "prefix:" before it?
bool TagNameMatches(std::string_view xml, size_t pos, std::string_view name, size_t* after) {
  size_t name_end = pos;
  while (name_end < xml.size() && !IsNameEnd(xml[name_end])) ++name_end;
  std::string_view tag = xml.substr(pos, name_end - pos);
  size_t colon = tag.rfind(':');
  if (colon != std::string_view::npos) tag = tag.substr(colon + 1);
  *after = name_end;
  return tag == name;
}

// Finds the next <name ...>...</name> (or <name/>) at or after `from`.
std::optional<ElementSpan> FindElement(std::string_view xml, std::string_view name, size_t from) {
  size_t pos = from;
  while ((pos = xml.find('<', pos)) != std::string_view::npos) {
    size_t after = 0;
    if (pos + 1 < xml.size() && xml[pos + 1] != '/' && TagNameMatches(xml, pos + 1, name, &after)) {
      size_t gt = xml.find('>', after);
      if (gt == std::string_view::npos) return std::nullopt;
      if (xml[gt - 1] == '/') return ElementSpan{gt + 1, gt + 1, gt + 1};
      // The matching close tag: S3 documents do not nest an element inside one of its name.
      size_t close = gt + 1;
      while ((close = xml.find("</", close)) != std::string_view::npos) {
        size_t close_after = 0;
        if (TagNameMatches(xml, close + 2, name, &close_after)) {
          size_t close_gt = xml.find('>', close_after);
          if (close_gt == std::string_view::npos) return std::nullopt;
          return ElementSpan{gt + 1, close, close_gt + 1};
        }
        close += 2;
      }
      return std::nullopt;
    }
    ++pos;
  }
  return std::nullopt;
}

void AppendUtf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

bool DecodeEntity(std::string_view entity, std::string& out) {
  if (entity == "amp") return out.push_back('&'), true;
  if (entity == "lt") return out.push_back('<'), true;
  if (entity == "gt") return out.push_back('>'), true;
  if (entity == "quot") return out.push_back('"'), true;
  if (entity == "apos") return out.push_back('\''), true;
  if (entity.size() < 2 || entity[0] != '#') return false;
  int base = 10;
  std::string_view digits = entity.substr(1);
  if (digits[0] == 'x' || digits[0] == 'X') {
    base = 16;
    digits = digits.substr(1);
  }
  uint32_t cp = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), cp, base);
  if (ec != std::errc() || ptr != digits.data() + digits.size() || cp == 0 || cp > 0x10FFFF) {
    return false;
  }
  AppendUtf8(out, cp);
  return true;
}

}  // namespace

Result<std::string> XmlDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    size_t semi = text.find(';', i);
    if (semi == std::string_view::npos || semi - i > 12 ||
        !DecodeEntity(text.substr(i + 1, semi - i - 1), out)) {
      return Failure(TrFormat("malformed XML entity in '{}'", text.substr(i, 16)));
    }
    i = semi;
  }
  return out;
}

std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name) {
  auto span = FindElement(xml, name, 0);
  if (!span) return std::nullopt;
  auto decoded =
      XmlDecode(xml.substr(span->content_begin, span->content_end - span->content_begin));
  if (!decoded) return std::nullopt;
  return *decoded;
}

int64_t ParseIsoTime(std::string_view text) {
  // "2026-11-30T03:07:05.000Z" (ListObjectsV2's LastModified, always UTC)
  std::tm tm{};
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const std::string t(text);
  if (std::sscanf(t.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &s) != 6) return 0;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  const time_t result = ::timegm(&tm);
  return result < 0 ? 0 : static_cast<int64_t>(result);
}

Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml) {
  if (!FindElement(xml, "ListBucketResult", 0)) {
    return Failure(TrFormat("the server's reply is not a ListObjectsV2 result ({} bytes)",
                            std::to_string(xml.size())));
  }
  ListObjectsPage page;
  size_t pos = 0;
  while (auto contents = FindElement(xml, "Contents", pos)) {
    std::string_view block =
        xml.substr(contents->content_begin, contents->content_end - contents->content_begin);
    auto key = FindElement(block, "Key", 0);
    if (!key)
      return Failure(std::string(Tr("malformed ListObjectsV2 result: <Contents> without <Key>")));
    VELIN_ASSIGN(std::string name, XmlDecode(block.substr(key->content_begin,
                                                          key->content_end - key->content_begin)));
    ObjectInfo info{std::move(name), 0};
    if (auto size = XmlElementText(block, "Size")) {
      auto [ptr, ec] = std::from_chars(size->data(), size->data() + size->size(), info.size);
      if (ec != std::errc() || ptr != size->data() + size->size()) {
        return Failure(TrFormat("malformed ListObjectsV2 result: <Size>{}</Size>", *size));
      }
    }
    if (auto modified = XmlElementText(block, "LastModified")) {
      info.mtime = ParseIsoTime(*modified);  // 0 when not in the expected form
    }
    if (auto etag = XmlElementText(block, "ETag")) info.version = std::string(*etag);
    page.objects.push_back(std::move(info));
    pos = contents->end;
  }
  page.truncated = XmlElementText(xml, "IsTruncated").value_or("false") == "true";
  page.next_continuation_token = XmlElementText(xml, "NextContinuationToken").value_or("");
  if (page.truncated && page.next_continuation_token.empty()) {
    return Failure(std::string(
        Tr("malformed ListObjectsV2 result: truncated page without NextContinuationToken")));
  }
  return page;
}

S3ErrorBody ParseS3Error(std::string_view xml) {
  S3ErrorBody body;
  auto error = FindElement(xml, "Error", 0);
  if (!error) return body;
  std::string_view inner =
      xml.substr(error->content_begin, error->content_end - error->content_begin);
  body.code = XmlElementText(inner, "Code").value_or("");
  body.message = XmlElementText(inner, "Message").value_or("");
  body.region = XmlElementText(inner, "Region").value_or("");
  return body;
}

}  // namespace velin::storage
