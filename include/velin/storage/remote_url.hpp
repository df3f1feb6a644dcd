// Parses the remote destinations velin accepts: s3://bucket/prefix,
// sftp://user@host[:port]/path and ftp(s)://user@host[:port]/path. Passwords never belong in a
// URL (it ends up in config files and process listings), so one in the URL is refused; so are
// "." and ".." path segments and an SFTP path starting with "~" (libcurl would change what they
// name on the way, differently for transfers and commands).
#pragma once

#include <string>

#include "velin/core/error.hpp"

namespace velin::storage {

struct RemoteUrl {
  std::string scheme;  // "s3", "sftp", "ftp", "ftps"
  std::string user;    // percent-decoded; "" when absent
  std::string host;    // for s3: the bucket
  int port = 0;        // 0 = the protocol's default
  std::string path;    // percent-decoded, without a leading '/'; for s3: the prefix
};

// A usage error naming the URL (without its password) and what is wrong with it.
Result<RemoteUrl> ParseRemoteUrl(const std::string& url);

// What an s3:// URL must not hold besides what ParseRemoteUrl refuses: a user or a port (the
// server is storage.s3.endpoint's, the bucket goes where the host would). The one check of
// OpenBackend and of the config loader, so that `config check` passes no URL the commands refuse.
Status CheckS3Url(const RemoteUrl& url);

// What opening `destination` refuses before any request: ParseRemoteUrl's errors for an s3://,
// sftp://, ftp:// or ftps:// URL, and CheckS3Url's for s3://. Anything else is Ok here.
Status CheckRemoteDestination(const std::string& destination);

// Whether `a` and `b` name one location: the same scheme, user (FTP's default "anonymous"
// written out), host (case aside), port (the default one written out) and decoded path, empty
// segments aside. "s3://bkt/my%20repo", "s3://bkt/my repo/" and "s3://bkt//my repo" are one.
bool SameRemoteLocation(const RemoteUrl& a, const RemoteUrl& b);

// The URL as velin may show it: a password in it ("ftp://u:secret@host/x", which velin
// refuses) replaced by "***" (MaskUrlPasswords). Anything else is returned as it is.
std::string WithoutPassword(const std::string& url);

// sftp://, ftp:// or ftps://: a repository on a file server (FileServerBackend), where listing
// data/ is 256 directory listings of several round trips each.
bool IsFileServerUrl(const std::string& destination);

// localhost, 127.0.0.0/8 or ::1 (written as such: no name lookup).
bool IsLoopbackHost(const std::string& host);

// ftp:// and an http:// S3 endpoint send data and passwords in clear: a usage error unless
// `allow_insecure` (backup.allow_insecure) or the server is on this machine (loopback), where
// nothing crosses a network. `destination` is a URL or a local path (always fine).
Status CheckCleartextTransport(const std::string& destination, const std::string& s3_endpoint,
                               bool allow_insecure);

}  // namespace velin::storage
