#include "velin/crypto/blob_id_hasher.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "context_pool.hpp"
#include "openssl_util.hpp"

namespace velin::crypto {
namespace {

using DigestPool = detail::ContextPool<EVP_MD_CTX, EVP_MD_CTX_free>;
using MacPool = detail::ContextPool<EVP_MAC_CTX, EVP_MAC_CTX_free>;

const EVP_MD* Sha256() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

EVP_MAC* Hmac() {
  static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  return mac;
}

}  // namespace

struct BlobIdHasher::Impl {
  Key256 key;
  DigestPool digests;
  MacPool macs;

  Result<Digest> HashPlain(std::string_view data) {
    DigestPool::Lease lease(digests);
    if (lease.get() == nullptr) lease.Adopt(EVP_MD_CTX_new());
    EVP_MD_CTX* ctx = lease.get();
    Digest out{};
    unsigned int len = 0;
    if (ctx == nullptr || EVP_DigestInit_ex2(ctx, Sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(ctx, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(ctx, out.data(), &len) != 1 || len != out.size()) {
      return detail::OpenSslError("SHA-256");
    }
    return out;
  }

  // A context keyed once; later calls re-initialise it without a key, which keeps the key.
  EVP_MAC_CTX* NewMac() {
    EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(Hmac());
    if (ctx == nullptr) return nullptr;
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    if (EVP_MAC_init(ctx, key.data(), key.size(), params) != 1) {
      EVP_MAC_CTX_free(ctx);
      return nullptr;
    }
    return ctx;
  }

  Result<Digest> HashKeyed(std::string_view data) {
    MacPool::Lease lease(macs);
    bool fresh = lease.get() == nullptr;
    if (fresh) lease.Adopt(NewMac());
    EVP_MAC_CTX* ctx = lease.get();
    Digest out{};
    size_t len = 0;
    if (ctx == nullptr || (!fresh && EVP_MAC_init(ctx, nullptr, 0, nullptr) != 1) ||
        EVP_MAC_update(ctx, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
            1 ||
        EVP_MAC_final(ctx, out.data(), &len, out.size()) != 1 || len != out.size()) {
      return detail::OpenSslError("HMAC-SHA-256");
    }
    return out;
  }
};

BlobIdHasher::BlobIdHasher(bool keyed, std::unique_ptr<Impl> impl)
    : keyed_(keyed), impl_(std::move(impl)) {}
BlobIdHasher::~BlobIdHasher() = default;

Result<std::unique_ptr<BlobIdHasher>> BlobIdHasher::Plain() {
  if (Sha256() == nullptr) return detail::OpenSslError("fetching SHA-256");
  return std::unique_ptr<BlobIdHasher>(new BlobIdHasher(false, std::make_unique<Impl>()));
}

Result<std::unique_ptr<BlobIdHasher>> BlobIdHasher::Keyed(const Key256& mac_key) {
  if (Hmac() == nullptr) return detail::OpenSslError("fetching HMAC");
  auto impl = std::make_unique<Impl>();
  impl->key = mac_key;
  return std::unique_ptr<BlobIdHasher>(new BlobIdHasher(true, std::move(impl)));
}

Result<Digest> BlobIdHasher::Hash(std::string_view data) {
  return keyed_ ? impl_->HashKeyed(data) : impl_->HashPlain(data);
}

}  // namespace velin::crypto
