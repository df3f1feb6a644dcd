// Reads the "ls -l"-style directory listings that SFTP servers (OpenSSH's long names, as
// libcurl passes them on) and FTP servers (LIST) send:
//   -rw-------    1 1000     1000         5120 Nov 25 15:48 3f2a…
// The size is the field before the month name, so listings without a group column parse too.
// Lines that are not in this form are skipped, never guessed at.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace velin::storage {

struct ListingEntry {
  std::string name;
  uint64_t size = 0;
  bool is_directory = false;
  int64_t mtime = 0;  // Unix seconds (the listing's minutes, read as UTC); 0 when unreadable
  // The listing gave hours and minutes ("Nov 25 15:48": within the last half year), not a year.
  bool to_the_minute = false;
};

// Regular files and directories of a listing, without "." and ".." (symlinks are skipped).
std::vector<ListingEntry> ParseLongListing(std::string_view text);
// The same with "now" given: a date without a year is within the half year before it.
std::vector<ListingEntry> ParseLongListing(std::string_view text, int64_t now);

}  // namespace velin::storage
