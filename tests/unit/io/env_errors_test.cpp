// The two Envs fail alike: each misuse of the file calls (a name that is missing, taken, of the
// wrong kind) gets the same errno from the POSIX Env on a real directory and from the MemEnv the
// engine tests trust to stand for it, and the message names the path. Also what POSIX allows
// and MemEnv must allow too: a symlink target longer than a first read, an mtime before 1970.
#include <gtest/gtest.h>

#include <cerrno>
#include <functional>
#include <memory>

#include "unit/io/env_tree.hpp"
#include "velin/io/env.hpp"
#include "velin/io/mem_env.hpp"
#include "velin/io/posix_env.hpp"

namespace velin::io {
namespace {

class EnvErrorsTest : public EnvTreeTest {};

TEST_P(EnvErrorsTest, PathCallsOnMissingNamesAreEnoent) {
  const std::string missing = P("missing");
  ExpectErrno(env_->ReadFile(missing), ENOENT, missing);
  ExpectErrno(env_->ReadLink(missing), ENOENT, missing);
  ExpectErrno(env_->SetMode(missing, 0600), ENOENT, missing);
  ExpectErrno(env_->SetOwner(missing, 0, 0), ENOENT, missing);
  ExpectErrno(env_->SetMtime(missing, 0), ENOENT, missing);
  ExpectErrno(env_->HardLink(missing, P("new")), ENOENT, P("new"));
  ExpectErrno(env_->Rename(missing, P("new")), ENOENT, missing);
  ExpectErrno(env_->RemoveFile(missing), ENOENT, missing);
  ExpectErrno(env_->ListDir(missing), ENOENT, missing);
  ExpectErrno(env_->OpenDir(missing), ENOENT, missing);
  EXPECT_FALSE(*env_->Exists(P("new")));  // nothing was made on the way
}

TEST_P(EnvErrorsTest, PathCallsOnTakenOrWrongKindsOfNamesFailAsPosixSays) {
  ExpectErrno(env_->Symlink("elsewhere", P("file")), EEXIST, P("file"));
  ExpectErrno(env_->HardLink(P("file"), P("dir")), EEXIST, P("dir"));
  ExpectErrno(env_->ReadLink(P("file")), EINVAL, P("file"));
  ExpectErrno(env_->ListDir(P("file")), ENOTDIR, P("file"));
  ExpectErrno(env_->RemoveDir(P("dir")), ENOTEMPTY, P("dir"));
  ExpectErrno(env_->NewWritableFile(P("file"), {.exclusive = true}), EEXIST, P("file"));
  EXPECT_EQ(*env_->ReadFile(P("file")), "content");  // untouched by all of it
}

TEST_P(EnvErrorsTest, DescriptorCallsOnMissingOrTakenNamesFailAsPosixSays) {
  const Dir& d = *dir_;
  ExpectErrno(env_->RemoveAt(d, "missing", false), ENOENT, P("missing"));
  ExpectErrno(env_->ReadLinkAt(d, "missing"), ENOENT, P("missing"));
  ExpectErrno(env_->ReadLinkAt(d, "file"), EINVAL, P("file"));
  ExpectErrno(env_->StatAt(d, "missing"), ENOENT, P("missing"));
  ExpectErrno(env_->SymlinkAt("elsewhere", d, "file"), EEXIST, P("file"));
  ExpectErrno(env_->HardLinkAt(d, "missing", d, "new"), ENOENT, P("new"));
  ExpectErrno(env_->HardLinkAt(d, "file", d, "dir"), EEXIST, P("dir"));
  ExpectErrno(env_->RenameAt(d, "missing", d, "new"), ENOENT, P("missing"));
  ExpectErrno(env_->MakeNodeAt(d, "file", SpecialKind::kFifo, 0600, 0), EEXIST, P("file"));
  ExpectErrno(env_->SetAttributesAt(d, "missing", Attributes{.mode = 0600}), ENOENT, P("missing"));
  ExpectErrno(env_->OpenDirAt(d, "missing", false), ENOENT, P("missing"));
  ExpectErrno(env_->NewWritableFileAt(d, "file", {.exclusive = true}), EEXIST, P("file"));
  EXPECT_FALSE(*env_->Exists(P("new")));
  EXPECT_EQ(*env_->ReadFile(P("file")), "content");

  // What does work through a descriptor: a fifo made and removed again.
  ASSERT_TRUE(env_->MakeNodeAt(d, "fifo", SpecialKind::kFifo, 0600, 0));
  auto fifo = env_->StatAt(d, "fifo");
  ASSERT_TRUE(fifo) << fifo.error().message;
  EXPECT_EQ(fifo->type, FileType::kOther);
  ASSERT_TRUE(env_->RemoveAt(d, "fifo", false));
  ExpectErrno(env_->StatAt(d, "fifo"), ENOENT, P("fifo"));
}

TEST_P(EnvErrorsTest, LongSymlinkTargetsAndTimesBefore1970RoundTrip) {
  const std::string target(700, 'x');  // longer than the first readlink buffer
  ASSERT_TRUE(env_->Symlink(target, P("long")));
  auto back = env_->ReadLink(P("long"));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, target);
  auto at = env_->ReadLinkAt(*dir_, "long");
  ASSERT_TRUE(at) << at.error().message;
  EXPECT_EQ(*at, target);

  const int64_t before_1970 = -1'500'000'000;  // 1969-12-31 23:59:58.5
  ASSERT_TRUE(env_->SetMtime(P("file"), before_1970));
  auto st = env_->Stat(P("file"));
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->mtime_ns, before_1970);
  ASSERT_TRUE(env_->SetMode(P("file"), 0640));
  EXPECT_EQ(env_->Stat(P("file"))->mode, 0640u);
}

INSTANTIATE_TEST_SUITE_P(BothEnvs, EnvErrorsTest, BothEnvs(), EnvCaseName);

}  // namespace
}  // namespace velin::io
