// The few S3 response documents velin reads: ListObjectsV2 results and error bodies. A small
// purpose-built reader, not a general XML parser: it finds elements by name (namespaces and
// attributes ignored), decodes the five predefined entities and numeric character references,
// and never reads outside its input, so a malformed or hostile reply gives an error or empty
// fields, never a crash.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "velin/core/error.hpp"
#include "velin/storage/backend.hpp"

namespace velin::storage {

struct ListObjectsPage {
  std::vector<ObjectInfo> objects;  // full keys, as the server sent them
  bool truncated = false;
  std::string next_continuation_token;
};

// Parses a ListBucketResult (ListObjectsV2). Fails when the document is not one, or when a
// truncated page carries no continuation token (the listing could not go on).
Result<ListObjectsPage> ParseListObjectsV2(std::string_view xml);

// "2026-11-30T03:07:05.000Z" as Unix seconds; 0 when `text` is not in that form.
int64_t ParseIsoTime(std::string_view text);

struct S3ErrorBody {
  std::string code;     // "NoSuchKey", "SignatureDoesNotMatch", ...
  std::string message;  // the server's sentence
  std::string region;   // where a PermanentRedirect/AuthorizationHeaderMalformed points
};

// Parses an <Error> document; empty fields when absent or not XML.
S3ErrorBody ParseS3Error(std::string_view xml);

// The text of the first <name>...</name> element inside `xml`, entities decoded; nullopt when
// there is none. Exposed for tests.
std::optional<std::string> XmlElementText(std::string_view xml, std::string_view name);

// Decodes &amp; &lt; &gt; &quot; &apos; &#NN; &#xNN; (UTF-8 out). Fails on an unknown entity.
Result<std::string> XmlDecode(std::string_view text);

}  // namespace velin::storage
