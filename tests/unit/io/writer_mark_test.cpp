// The names of a restore test's temporaries (io::WriterMark) and the rule that tells a killed
// run's from a live run's or another host's: only this process space's, with no process left.
#include <gtest/gtest.h>

#include <string>

#include "velin/io/mem_env.hpp"
#include "velin/io/process_space.hpp"

namespace velin::io {
namespace {

TEST(WriterMark, ANameCarriesThePidAndTheProcessSpaceTag) {
  MemEnv env;
  ProcessIdentity self = env.ThisProcess();
  self.pid = 4242;
  env.SetThisProcess(self);
  const std::string tag = ProcessSpaceTag(self);
  ASSERT_FALSE(tag.empty());
  EXPECT_EQ(WriterMark(env, '-'), "4242-" + tag);
  const auto writer =
      TempWriterAfter("velin-restore-test-4242-" + tag + "-Ab12Cd", "velin-restore-test-", '-');
  ASSERT_TRUE(writer);
  EXPECT_EQ(writer->pid, 4242);
  EXPECT_EQ(writer->tag, tag);
  EXPECT_FALSE(IsDeadWriter(env, *writer));  // this very process
}

TEST(WriterMark, OnlyAGoneWriterOfThisProcessSpaceIsDead) {
  MemEnv env;
  const std::string tag = ProcessSpaceTag(env.ThisProcess());
  env.StartProcess(100, 7);
  EXPECT_FALSE(IsDeadWriter(env, TempWriter{.pid = 100, .tag = tag}));  // runs
  EXPECT_TRUE(IsDeadWriter(env, TempWriter{.pid = 101, .tag = tag}));   // gone
  env.EndProcess(100);
  EXPECT_TRUE(IsDeadWriter(env, TempWriter{.pid = 100, .tag = tag}));
  // Another host's, or one before a reboot: not known gone. An unknown tag never is.
  EXPECT_FALSE(IsDeadWriter(env, TempWriter{.pid = 101, .tag = "00000000"}));
  EXPECT_FALSE(IsDeadWriter(env, TempWriter{.pid = 101, .tag = "x"}));
}

TEST(WriterMark, OtherNamesAreNoWritersNames) {
  for (const char* name :
       {"velin-restore-test-notes", "velin-restore-test-", "velin-restore-test-12",
        "velin-restore-test-12-", "velin-restore-test--ab-c", "velin-restore-test-1a-ab-c",
        "velin-restore-test-12--c", "velin-restore-test-12345678901-ab-c", "other-12-ab-c"}) {
    EXPECT_FALSE(TempWriterAfter(name, "velin-restore-test-", '-')) << name;
  }
}

}  // namespace
}  // namespace velin::io
