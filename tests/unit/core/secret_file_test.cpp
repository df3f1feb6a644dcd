// Secret files (S3 keys, repository passwords): read whole when private to velin's user, and
// otherwise refused with one line naming the file and what to do — never a hang on a fifo, never
// the content of a file others can read.
#include "velin/core/secret_file.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>

namespace velin {
namespace {

class SecretFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/velin-secret-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { (void)std::system(("rm -rf '" + dir_ + "'").c_str()); }

  std::string Write(const std::string& name, const std::string& content, mode_t mode) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    EXPECT_EQ(::chmod(path.c_str(), mode), 0);
    return path;
  }

  // Refused as a usage error (exit 2) whose one line holds `part`.
  static void ExpectRefused(const Result<std::string>& r, const std::string& part) {
    ASSERT_FALSE(r.has_value()) << "read: " << *r;
    EXPECT_EQ(r.error().code, ExitCode::kUsage) << r.error().message;
    EXPECT_NE(r.error().message.find(part), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
  }

  std::string dir_;
};

TEST_F(SecretFileTest, APrivateFileIsReadWholeWhateverItsSize) {
  std::string big(10'000, 's');  // more than one read
  big += "\nend";
  auto r = ReadSecretFile(Write("key", big, 0600));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, big);
  auto empty = ReadSecretFile(Write("empty", "", 0400));
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(*empty, "");
}

TEST_F(SecretFileTest, AFileOthersCanReadIsRefusedWithTheFix) {
  const std::string path = Write("key", "secret", 0644);
  auto r = ReadSecretFile(path);
  ExpectRefused(r, "mode 0644");
  ExpectRefused(r, "chmod 600 " + path);
  ExpectRefused(ReadSecretFile(Write("group", "secret", 0640)), "mode 0640");
}

TEST_F(SecretFileTest, WhatIsNoRegularFileIsRefusedAndAFifoDoesNotHang) {
  ExpectRefused(ReadSecretFile(dir_ + "/missing"), "does not exist");
  ExpectRefused(ReadSecretFile(Write("file", "x", 0600) + "/under"), "does not exist");
  ExpectRefused(ReadSecretFile(dir_), "is not a regular file");
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  ExpectRefused(ReadSecretFile(fifo), "is not a regular file");  // no writer: open must not wait
  const std::string too_long = dir_ + "/" + std::string(300, 'n');
  ExpectRefused(ReadSecretFile(too_long), "cannot read " + too_long);
}

}  // namespace
}  // namespace velin
