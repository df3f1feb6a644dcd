#include "velin/storage/ssh_key.hpp"

#include <gtest/gtest.h>

#include <string>

#include "velin/core/text_encoding.hpp"

namespace velin::storage {
namespace {

// An OpenSSH-format key file whose header names `cipher` (the rest is filler: only the header
// is read).
std::string OpenSshKeyNaming(const std::string& cipher) {
  std::string bytes("openssh-key-v1\0", 15);
  const auto n = static_cast<uint32_t>(cipher.size());
  for (int shift : {24, 16, 8, 0}) bytes.push_back(static_cast<char>((n >> shift) & 0xff));
  bytes += cipher + std::string(64, 'x');
  const std::string body = Base64Encode(bytes);
  std::string text = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (size_t i = 0; i < body.size(); i += 70) text += body.substr(i, 70) + "\n";
  return text + "-----END OPENSSH PRIVATE KEY-----\n";
}

TEST(SshKey, OpenSshKeyWithACipherIsEncrypted) {
  EXPECT_TRUE(PrivateKeyIsEncrypted(OpenSshKeyNaming("aes256-ctr")));
  EXPECT_TRUE(PrivateKeyIsEncrypted(OpenSshKeyNaming("aes256-gcm@openssh.com")));
}

TEST(SshKey, OpenSshKeyWithCipherNoneIsNot) {
  EXPECT_FALSE(PrivateKeyIsEncrypted(OpenSshKeyNaming("none")));
}

TEST(SshKey, PemKeysSayTheyAreEncrypted) {
  EXPECT_TRUE(PrivateKeyIsEncrypted(
      "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0903\n\nAAAA\n"
      "-----END EC PRIVATE KEY-----\n"));
  EXPECT_TRUE(PrivateKeyIsEncrypted(
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"));
  EXPECT_FALSE(PrivateKeyIsEncrypted(
      "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"));
}

TEST(SshKey, WhatIsNoKeyIsNotEncrypted) {
  EXPECT_FALSE(PrivateKeyIsEncrypted(""));
  EXPECT_FALSE(PrivateKeyIsEncrypted("-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n"));
  EXPECT_FALSE(PrivateKeyIsEncrypted("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbg==\n"));
}

}  // namespace
}  // namespace velin::storage
