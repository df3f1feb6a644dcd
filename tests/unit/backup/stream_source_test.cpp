// Stream sources: a stream is chunked as it arrives, stored with its metadata, read back
// verified, and a failing producer leaves no snapshot.
#include "velin/backup/stream_source.hpp"

#include <gtest/gtest.h>

#include <random>

#include "support/local_repo.hpp"
#include "support/test_support.hpp"
#include "velin/backup/archiver.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::backup {
namespace {

class GeneratedStream : public StreamSource {
 public:
  GeneratedStream(std::string data, bool fail_midway)
      : data_(std::move(data)), fail_midway_(fail_midway) {}
  std::string Name() const override { return "db"; }
  Status Produce(const std::function<Status(std::string_view)>& sink) override {
    for (size_t i = 0; i < data_.size(); i += 65536) {
      if (fail_midway_ && i > data_.size() / 2) return Failure("pg_dump exited with status 1");
      VELIN_TRY(sink(std::string_view(data_).substr(i, 65536)));
    }
    return Ok();
  }
  nlohmann::json Metadata() const override { return {{"server_version", "16.4"}, {"tables", 3}}; }

 private:
  std::string data_;
  bool fail_midway_;
};

std::string Generate(size_t n) {
  std::mt19937 rng(7);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() % 7 == 0 ? rng() : 'a' + rng() % 4);
  return s;
}

TEST(StreamSourceTest, RoundTripWithMetadata) {
  testing::LocalRepo f;
  std::string data = Generate(5 << 20);
  GeneratedStream stream(data, false);
  CreateOptions options;
  options.app_root = f.dir.path();
  options.streams.push_back(&stream);
  NullReporter reporter;
  auto snapshot = CreateBackup(*f.repo, io::Env::Default(), reporter, options);
  ASSERT_TRUE(snapshot) << snapshot.error().message;

  auto reopened = repo::Repository::Open(*f.backend, false);
  ASSERT_TRUE(reopened);
  ASSERT_TRUE((*reopened)->LoadIndex());
  auto loaded = (*reopened)->LoadSnapshot(snapshot->id);
  ASSERT_TRUE(loaded);
  std::string back;
  ASSERT_TRUE(ReadStreamSource(**reopened, *loaded, "db", [&](std::string_view piece) {
    back.append(piece);
    return Ok();
  }));
  EXPECT_EQ(back, data);
  const nlohmann::json* meta = StreamSourceMetadata(*loaded, "db");
  ASSERT_NE(meta, nullptr);
  EXPECT_EQ((*meta)["server_version"], "16.4");
  EXPECT_EQ(StreamSourceMetadata(*loaded, "nope"), nullptr);
  EXPECT_FALSE(
      ReadStreamSource(**reopened, *loaded, "nope", [](std::string_view) { return Ok(); }));
}

TEST(StreamSourceTest, FailingProducerCommitsNoSnapshot) {
  testing::LocalRepo f;
  GeneratedStream stream(Generate(3 << 20), true);
  CreateOptions options;
  options.app_root = f.dir.path();
  options.streams.push_back(&stream);
  NullReporter reporter;
  auto snapshot = CreateBackup(*f.repo, io::Env::Default(), reporter, options);
  ASSERT_FALSE(snapshot);
  EXPECT_NE(snapshot.error().message.find("pg_dump exited with status 1"), std::string::npos);
  auto ids = f.repo->ListSnapshotIds();
  ASSERT_TRUE(ids);
  EXPECT_TRUE(ids->empty());
}

}  // namespace
}  // namespace velin::backup
