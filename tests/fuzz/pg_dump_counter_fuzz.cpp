// Fuzzes the reader of pg_dump's custom format (the PostgreSQL driver's row counts): a damaged,
// truncated or hostile stream must be read without a crash or a read outside it, and whatever
// it concludes must not depend on where the stream was cut into chunks.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "velin/db/pg_dump_counter.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  velin::db::PgDumpCounter whole;
  whole.Feed(in);
  whole.Finish();
  // The same bytes in chunks of a size taken from the input.
  const size_t step = size == 0 ? 1 : 1 + static_cast<uint8_t>(in[size / 2]) % 97;
  velin::db::PgDumpCounter pieces;
  for (size_t i = 0; i < size; i += step) pieces.Feed(in.substr(i, step));
  pieces.Finish();
  if (whole.Complete() != pieces.Complete()) __builtin_trap();
  if (whole.Complete() &&
      (whole.Tables() != pieces.Tables() || whole.DumpVersion() != pieces.DumpVersion())) {
    __builtin_trap();
  }
  return 0;
}
