// A pool of prepared OpenSSL contexts (keyed cipher contexts, keyed MAC contexts, digest
// contexts). A call borrows one for its duration and gives it back, so each thread in effect
// reuses its own context and the hot path neither allocates nor redoes a key schedule. The
// pool frees (and OpenSSL thereby wipes) every context when it is destroyed.
// REQUIRES: no lease outlives the pool. Private to src/crypto.
#pragma once

#include <mutex>
#include <vector>

namespace velin::crypto::detail {

template <typename Ctx, void (*FreeFn)(Ctx*)>
class ContextPool {
 public:
  ContextPool() = default;
  ~ContextPool() {
    for (Ctx* ctx : free_) FreeFn(ctx);
  }
  ContextPool(const ContextPool&) = delete;
  ContextPool& operator=(const ContextPool&) = delete;

  class Lease {
   public:
    explicit Lease(ContextPool& pool) : pool_(pool) {
      std::lock_guard lock(pool_.mu_);
      if (!pool_.free_.empty()) {
        ctx_ = pool_.free_.back();
        pool_.free_.pop_back();
      }
    }
    ~Lease() {
      if (ctx_ == nullptr) return;
      std::lock_guard lock(pool_.mu_);
      pool_.free_.push_back(ctx_);
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;

    // nullptr when the pool had none ready; the caller then makes one and Adopt()s it.
    Ctx* get() const { return ctx_; }
    void Adopt(Ctx* ctx) { ctx_ = ctx; }

   private:
    ContextPool& pool_;
    Ctx* ctx_ = nullptr;
  };

 private:
  std::mutex mu_;
  std::vector<Ctx*> free_;
};

}  // namespace velin::crypto::detail
