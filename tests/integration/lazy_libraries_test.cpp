// libcurl, libpq and the MariaDB client are opened when a command first needs them
// (velin/core/lazy_library.hpp), not at start: a local backup never loads them. A hook sees
// the running velin's memory map (its parent, /proc/$PPID/maps).
#include <gtest/gtest.h>

#include "support/backup_fixture.hpp"

namespace velin::testing {
namespace {

TEST(LazyLibrariesTest, ALocalBackupLoadsNoNetworkOrDatabaseClientLibrary) {
  BackupApp app({"storage"}, "[hooks]\nafter_backup = \"cat /proc/$PPID/maps > ../velin.maps\"\n");
  WriteFile(app.root() + "/storage/a.txt", "hello\n");
  auto r = app.Run({"backup", "create"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string maps = ReadFileOrDie(app.path("velin.maps"));
  // The map is velin's: its own binary and a library it links (the hook's shell has neither).
  ASSERT_NE(maps.find("libcrypto.so"), std::string::npos) << maps;
  ASSERT_NE(maps.find("libzstd.so"), std::string::npos) << maps;
  for (const char* lib : {"libcurl.so", "libpq.so", "libmariadb.so", "libgnutls.so"}) {
    EXPECT_EQ(maps.find(lib), std::string::npos) << lib << " is loaded:\n" << maps;
  }
}

}  // namespace
}  // namespace velin::testing
