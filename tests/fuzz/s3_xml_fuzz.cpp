// Fuzzes the S3 response reader (ListObjectsV2 pages, error bodies, entity decoding): a hostile
// or broken server's reply must give a page or an error, never a crash or a read outside it,
// and a page that says it is truncated always carries the token to go on with.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "velin/storage/s3_xml.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto page = velin::storage::ParseListObjectsV2(in);
  if (page && page->truncated && page->next_continuation_token.empty()) __builtin_trap();
  if (!page && page.error().message.empty()) __builtin_trap();
  (void)velin::storage::ParseS3Error(in);
  (void)velin::storage::XmlDecode(in);
  (void)velin::storage::XmlElementText(in, "Key");
  return 0;
}
