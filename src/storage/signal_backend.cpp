#include "velin/storage/signal_backend.hpp"

#include <atomic>
#include <csignal>

namespace velin::storage {
namespace {

std::atomic<uint64_t> requests{0};  // of every wrapped backend: one matrix over the process

class SignalBackend : public Backend {
 public:
  SignalBackend(std::unique_ptr<Backend> base, SignalRule rule)
      : base_(std::move(base)), rule_(rule) {}

  std::string Location() const override { return base_->Location(); }
  std::optional<std::string> LocalFileOf(const std::string& name) const override {
    return base_->LocalFileOf(name);
  }
  Status Put(const std::string& name, std::string_view data) override {
    Count();
    return base_->Put(name, data);
  }
  Result<std::string> Get(const std::string& name) override {
    Count();
    return base_->Get(name);
  }
  Status GetInto(const std::string& name, std::string& out) override {
    Count();
    return base_->GetInto(name, out);
  }
  Result<std::string> GetRange(const std::string& name, uint64_t offset, uint64_t length) override {
    Count();
    return base_->GetRange(name, offset, length);
  }
  Status GetRangeInto(const std::string& name, uint64_t offset, uint64_t length,
                      std::string& out) override {
    Count();
    return base_->GetRangeInto(name, offset, length, out);
  }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override {
    Count();
    return base_->List(prefix);
  }
  Status Delete(const std::string& name) override {
    Count();
    return base_->Delete(name);
  }
  Status SyncDeletes() override { return base_->SyncDeletes(); }
  Result<std::optional<ObjectInfo>> Stat(const std::string& name) override {
    Count();
    return base_->Stat(name);
  }
  Result<StaleTempSweep> RemoveStaleTemps(int64_t last_sweep, const TempLayout& layout) override {
    return base_->RemoveStaleTemps(last_sweep, layout);
  }
  Result<std::unique_ptr<ObjectWriter>> NewObjectWriter(const std::string& dir) override {
    auto writer = base_->NewObjectWriter(dir);
    if (!writer || !*writer) return writer;
    return std::unique_ptr<ObjectWriter>(std::make_unique<Writer>(*this, std::move(*writer)));
  }

 private:
  class Writer : public ObjectWriter {
   public:
    Writer(SignalBackend& owner, std::unique_ptr<ObjectWriter> base)
        : owner_(owner), base_(std::move(base)) {}
    Status Append(std::string_view data) override { return base_->Append(data); }
    Status Commit(const std::string& name) override {
      owner_.Count();
      return base_->Commit(name);
    }

   private:
    SignalBackend& owner_;
    std::unique_ptr<ObjectWriter> base_;
  };

  void Count() {
    if (requests.fetch_add(1) + 1 == rule_.nth) ::raise(rule_.signal);  // its handler has run
  }

  std::unique_ptr<Backend> base_;
  SignalRule rule_;
};

}  // namespace

std::optional<SignalRule> ParseSignalRule(const std::string& text) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  SignalRule rule;
  for (size_t i = 0; i < colon; ++i) {
    if (text[i] < '0' || text[i] > '9' || rule.nth > (UINT64_MAX - 9) / 10) return std::nullopt;
    rule.nth = rule.nth * 10 + static_cast<uint64_t>(text[i] - '0');
  }
  const std::string name = text.substr(colon + 1);
  rule.signal = name == "SIGTERM"  ? SIGTERM
                : name == "SIGINT" ? SIGINT
                : name == "SIGHUP" ? SIGHUP
                                   : 0;
  if (rule.nth == 0 || rule.signal == 0) return std::nullopt;
  return rule;
}

std::unique_ptr<Backend> WithSignalAtRequest(std::unique_ptr<Backend> base, SignalRule rule) {
  return std::make_unique<SignalBackend>(std::move(base), rule);
}

}  // namespace velin::storage
