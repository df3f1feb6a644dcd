#include "curl_session.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "velin/core/i18n.hpp"
#include "velin/io/env.hpp"
#include "velin/storage/curl_library.hpp"

namespace velin::storage {
namespace {

size_t ReadFromSource(char* buffer, size_t size, size_t count, void* user) {
  auto* source = static_cast<UploadSource*>(user);
  const size_t n =
      static_cast<size_t>(std::min<uint64_t>(size * count, source->Size() - source->pos));
  if (source->fd < 0) {
    std::memcpy(buffer, source->data.data() + source->pos, n);
    source->pos += n;
    return n;
  }
  if (n == 0) return 0;
  ssize_t got;
  do {
    got = ::pread(source->fd, buffer, n, static_cast<off_t>(source->pos));
  } while (got < 0 && errno == EINTR);
  // A file shorter than it was said to be, or unreadable: the upload fails, never a short one.
  if (got <= 0) return CURL_READFUNC_ABORT;
  source->pos += static_cast<uint64_t>(got);
  return static_cast<size_t>(got);
}

int SeekSource(void* user, curl_off_t offset, int origin) {
  auto* source = static_cast<UploadSource*>(user);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > source->Size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  source->pos = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t AppendToString(char* data, size_t size, size_t count, void* user) {
  static_cast<std::string*>(user)->append(data, size * count);
  return size * count;
}

std::mt19937_64& Rng() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

}  // namespace

CurlLease::~CurlLease() {
  if (handle_.easy != nullptr) pool_->Release(handle_);
}

CURLcode CurlLease::PerformPolled() {
  if (handle_.multi == nullptr) {
    handle_.multi = curl_multi_init();
    if (handle_.multi == nullptr) return CURLE_OUT_OF_MEMORY;
  }
  CURLM* multi = handle_.multi;
  if (curl_multi_add_handle(multi, handle_.easy) != CURLM_OK) return CURLE_FAILED_INIT;
  CURLcode result = CURLE_FAILED_INIT;  // unless libcurl says how the transfer ended
  int wait_ms = 1;
  for (;;) {
    int running = 0;
    if (curl_multi_perform(multi, &running) != CURLM_OK) break;
    bool done = false;
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi, &left)) {
      if (message->msg == CURLMSG_DONE && message->easy_handle == handle_.easy) {
        result = message->data.result;
        done = true;
      }
    }
    if (done || running == 0) break;
    long libcurl_ms = -1;
    (void)curl_multi_timeout(multi, &libcurl_ms);
    const int most = libcurl_ms < 0 ? 1000 : static_cast<int>(std::min(libcurl_ms, 1000L));
    int stirred = 0;
    if (curl_multi_poll(multi, nullptr, 0, std::min(wait_ms, most), &stirred) != CURLM_OK) break;
    wait_ms = stirred > 0 ? 1 : std::min(wait_ms * 2, 1000);
  }
  (void)curl_multi_remove_handle(multi, handle_.easy);
  return result;
}

CurlPool::~CurlPool() {
  for (const CurlHandle& h : idle_) {
    curl_easy_cleanup(h.easy);
    if (h.multi != nullptr) curl_multi_cleanup(h.multi);  // closes the connections it kept
  }
}

Result<CurlLease> CurlPool::Acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      CurlHandle h = idle_.back();
      idle_.pop_back();
      return CurlLease(this, h);
    }
  }
  VELIN_TRY(CurlReady());  // libcurl is opened and initialised for the first handle
  CURL* h = curl_easy_init();
  if (h == nullptr)
    return Failure(std::string(Tr("cannot create a libcurl handle (out of memory?)")));
  return CurlLease(this, CurlHandle{h, nullptr});
}

void CurlPool::Release(CurlHandle handle) {
  // Reset drops every option (so no credential or callback outlives its request) but keeps the
  // live connections, which is the point of the pool.
  curl_easy_reset(handle.easy);
  std::lock_guard lock(mu_);
  idle_.push_back(handle);
}

void SetUpload(CURL* curl, UploadSource* source) {
  curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadFromSource);
  curl_easy_setopt(curl, CURLOPT_READDATA, source);
  curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekSource);
  curl_easy_setopt(curl, CURLOPT_SEEKDATA, source);
  curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(source->Size()));
}

void SetDownload(CURL* curl, std::string* sink) {
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendToString);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, sink);
}

void SetHeaderSink(CURL* curl, std::string* sink) {
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, AppendToString);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, sink);
}

namespace {

// Called by libcurl about once a second and whenever data moves: a request of a backup or
// restore asked to stop (TerminationCancel) ends now instead of after its upload, or after
// the stall timeout of a server that stopped answering. An upload whose every byte is sent
// waits for its answer instead, for as long as the cleanup after a stop may take: the server
// has the whole body and stores it whether or not velin listens, and it may do so after the
// stopped run's cleanup deleted that very object (a pack left unindexed until a prune, seen on
// s3rver). Answered, the cleanup knows it is there.
int AbortWhenInterrupted(void*, curl_off_t, curl_off_t, curl_off_t upload_total,
                         curl_off_t uploaded) {
  if (upload_total > 0 && uploaded >= upload_total) {
    return StopRequestedFor(kTerminationCleanupGrace) ? 1 : 0;
  }
  return Interrupted() ? 1 : 0;
}

}  // namespace

void SetCommonOptions(CURL* curl, const RetryPolicy& policy, char* error_buffer) {
  error_buffer[0] = '\0';
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(policy.connect_timeout.count() * 1000));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(policy.stall_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortWhenInterrupted);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  // An object's URL goes out as built: libcurl would fold "." and ".." segments out of it, and
  // the object would land under another key than the one a listing finds.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
}

bool IsTransientCurlCode(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_FTP_ACCEPT_TIMEOUT:
    case CURLE_FTP_CANT_GET_HOST:
    case CURLE_FTP_WEIRD_PASV_REPLY:
    case CURLE_FTP_WEIRD_227_FORMAT:
    case CURLE_FTP_WEIRD_SERVER_REPLY:
    case CURLE_SSH:
    case CURLE_AGAIN:
      return true;
    default:
      return false;
  }
}

int CurlSystemError(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_CONNECT:
      return ECONNREFUSED;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
      return EHOSTUNREACH;
    case CURLE_OPERATION_TIMEDOUT:
      return ETIMEDOUT;
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return ECONNRESET;
    default:
      return 0;
  }
}

std::string DescribeCurlError(CURLcode code, const char* error_buffer) {
  // AbortWhenInterrupted ended it ("Callback aborted" says nothing to the user).
  if (code == CURLE_ABORTED_BY_CALLBACK && Interrupted()) return CheckInterrupted().error().message;
  if (error_buffer != nullptr && error_buffer[0] != '\0') {
    std::string s(error_buffer);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  return curl_easy_strerror(code);
}

std::string UriEncode(std::string_view text, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

void BackoffSleep(const RetryPolicy& policy, int attempt) {
  auto delay = policy.base_delay * (1LL << std::min(attempt - 1, 20));
  if (delay > policy.max_delay) delay = policy.max_delay;
  // The cleanup after a stop retries within a short grace (core/termination.hpp): short waits.
  if (StopRequested()) delay = std::min<decltype(delay)>(delay, std::chrono::seconds(1));
  // Full jitter over the upper half keeps many clients from retrying in lockstep.
  std::uniform_int_distribution<int64_t> dist(delay.count() / 2,
                                              std::max<int64_t>(delay.count(), 1));
  io::Env& env = policy.env != nullptr ? *policy.env : io::Env::Default();
  env.SleepFor(std::chrono::milliseconds(dist(Rng())));
}

std::string RandomHex(size_t length) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(length, '0');
  std::uniform_int_distribution<int> dist(0, 15);
  for (char& c : out) c = kHex[dist(Rng())];
  return out;
}

}  // namespace velin::storage
