#include "velin/storage/temp_names.hpp"

#include <gtest/gtest.h>

#include "velin/repo/repository.hpp"

namespace velin::storage {
namespace {

TEST(TempNames, RecognisesEveryShapeVelinWrites) {
  const TempName local = ParseTempName("00ab.tmp-4242-0badc0de-17");
  EXPECT_EQ(local.kind, TempKind::kLocalWriter);
  EXPECT_EQ(local.final_name, "00ab");
  EXPECT_EQ(ParseTempName("config.tmp-4242-x-999999").kind, TempKind::kLocalWriter);  // no tag
  EXPECT_EQ(ParseTempName("x.tmp-4242-5").kind, TempKind::kLocalWriter);  // an older velin's
  const TempName upload = ParseTempName("ab.tmp-0123456789ab");
  EXPECT_EQ(upload.kind, TempKind::kUpload);
  EXPECT_EQ(upload.final_name, "ab");
  const TempName aside = ParseTempName("shared-01.tmp-old-0123456789ef");
  EXPECT_EQ(aside.kind, TempKind::kMovedAside);
  EXPECT_EQ(aside.final_name, "shared-01");
}

TEST(TempNames, IgnoresNamesThatOnlyContainTheMarker) {
  for (const char* name :
       {"thesis.tmp-backup", "notes.tmp-", ".tmp-0123456789ab", "a.tmp-0123456789AB",
        "a.tmp-0123456789a", "a.tmp-0123456789abc", "a.tmp-old-0123", "a.tmp-12-zz-3",
        "a.tmp-12-0badc0de-", "a.tmp--0badc0de-1", "a.tmp-12-0badc0de-1-journal",
        "a.tmp-12-0badc0de0-1", "a.tmp-x-1", "config", "a.tmp-12-0badc0de-1.bak"}) {
    EXPECT_EQ(ParseTempName(name).kind, TempKind::kNone) << name;
  }
}

TEST(TempNames, KnowsOnlyTheRepositorysOwnDirectories) {
  const TempLayout layout = repo::TempFileLayout();
  for (const char* dir : {"", "keys", "locks", "index", "snapshots", "state",
                          "state/offsite-pending", "data", "data/00", "data/ff"}) {
    EXPECT_TRUE(IsRepositoryDir(layout, dir)) << dir;
  }
  for (const char* dir : {"Documents", "data/0", "data/abc", "data/AB", "data/ab/cd", "index/x",
                          "keys/old", "lost+found", "data/zz", "state/other"}) {
    EXPECT_FALSE(IsRepositoryDir(layout, dir)) << dir;
  }
}

TEST(TempNames, SweepsOnlyConfigsTempInTheRoot) {
  // The root may be the user's home: only config lives there.
  const TempLayout layout = repo::TempFileLayout();
  EXPECT_EQ(RepositoryTempName(layout, "", "config.tmp-4242-0badc0de-1").kind,
            TempKind::kLocalWriter);
  EXPECT_EQ(RepositoryTempName(layout, "", "config.tmp-0123456789ab").kind, TempKind::kUpload);
  EXPECT_EQ(RepositoryTempName(layout, "", "budget.tmp-2024-01").kind, TempKind::kNone);
  EXPECT_EQ(RepositoryTempName(layout, "", "x.tmp-0123456789ab").kind, TempKind::kNone);
  EXPECT_EQ(RepositoryTempName(layout, "index", "x.tmp-0123456789ab").kind, TempKind::kUpload);
  EXPECT_EQ(RepositoryTempName(layout, "Documents", "x.tmp-0123456789ab").kind, TempKind::kNone);
}

// Storage knows no repository layout: the directories and root objects are the caller's.
TEST(TempNames, KnowsOnlyTheDirectoriesItIsGiven) {
  const TempLayout none;
  EXPECT_FALSE(IsRepositoryDir(none, ""));
  EXPECT_FALSE(IsRepositoryDir(none, "index"));
  EXPECT_EQ(RepositoryTempName(none, "index", "x.tmp-0123456789ab").kind, TempKind::kNone);
  TempLayout other;
  other.dirs = {"", "blobs"};
  other.root_objects = {"manifest"};
  EXPECT_TRUE(IsRepositoryDir(other, "blobs"));
  EXPECT_FALSE(IsRepositoryDir(other, "index"));
  EXPECT_EQ(RepositoryTempName(other, "blobs", "x.tmp-0123456789ab").kind, TempKind::kUpload);
  EXPECT_EQ(RepositoryTempName(other, "", "manifest.tmp-0123456789ab").kind, TempKind::kUpload);
  EXPECT_EQ(RepositoryTempName(other, "", "config.tmp-0123456789ab").kind, TempKind::kNone);
}

}  // namespace
}  // namespace velin::storage
