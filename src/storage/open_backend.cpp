#include "velin/storage/backend.hpp"
#include "velin/storage/local_backend.hpp"

namespace velin::storage {

Result<std::unique_ptr<Backend>> OpenBackend(const std::string& destination,
                                             const BackendOptions& options, io::Env& env,
                                             bool create) {
  (void)options;
  size_t scheme_end = destination.find("://");
  if (scheme_end == std::string::npos) {
    VELIN_ASSIGN(auto local, LocalBackend::Open(env, destination, create));
    return std::unique_ptr<Backend>(std::move(local));
  }
  std::string scheme = destination.substr(0, scheme_end);
  if (scheme == "file") {
    VELIN_ASSIGN(auto local, LocalBackend::Open(env, destination.substr(scheme_end + 3), create));
    return std::unique_ptr<Backend>(std::move(local));
  }
  return UsageError("destination '" + destination + "': unsupported scheme '" + scheme +
                    "' (supported: a local directory or file://)");
}

}  // namespace velin::storage
