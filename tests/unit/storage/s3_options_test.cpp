// S3 settings are checked when the backend is made, before any request: a bucket, a sane number
// of parallel uploads and an http(s) endpoint, each refused as a usage error naming the setting.
#include <gtest/gtest.h>

#include "velin/storage/s3_backend.hpp"

namespace velin::storage {
namespace {

void ExpectUsage(const S3Options& o, const std::string& part) {
  auto b = S3Backend::Create(o);
  ASSERT_FALSE(b) << "made " << (*b)->Location();
  EXPECT_EQ(b.error().code, ExitCode::kUsage) << b.error().message;
  EXPECT_NE(b.error().message.find(part), std::string::npos) << b.error().message;
}

TEST(S3OptionsTest, RefusesWhatNoRequestCouldUse) {
  S3Options o;
  o.bucket = "";
  ExpectUsage(o, "without a bucket name");
  o.bucket = "shop";
  for (int n : {0, -1, 65}) {
    o.parallel_uploads = n;
    ExpectUsage(o, "storage.s3.parallel_uploads must be between 1 and 64");
  }
  o.parallel_uploads = 4;
  for (const char* endpoint :
       {"s3.example.com", "ftp://s3.example.com", "file:///tmp/x", "httpx://s3.example.com"}) {
    o.endpoint = endpoint;
    ExpectUsage(o, std::string("storage.s3.endpoint '") + endpoint +
                       "' must start with https:// or http://");
    EXPECT_FALSE(CheckS3Endpoint(endpoint)) << endpoint;
  }
  // No host: "https://" was quoted as 'https:' (its trailing slashes cut) and told to start
  // with what it starts with.
  for (const char* endpoint : {"https://", "http:///x", "https://:9000"}) {
    o.endpoint = endpoint;
    ExpectUsage(o, std::string("storage.s3.endpoint '") + endpoint +
                       "' names no server (https://host[:port])");
  }
  for (const char* endpoint : {"", "https://s3.example.com/", "http://127.0.0.1:9000"}) {
    EXPECT_TRUE(CheckS3Endpoint(endpoint)) << endpoint;
  }
}

TEST(S3OptionsTest, TakesEitherAddressingStyleAndTrimsThePrefix) {
  S3Options o;
  o.bucket = "shop";
  o.prefix = "/backups/web1/";
  o.region = "";  // AWS's default region and endpoint
  auto aws = S3Backend::Create(o);
  ASSERT_TRUE(aws) << aws.error().message;
  EXPECT_EQ((*aws)->Location(), "s3://shop/backups/web1");
  o.prefix = "";
  o.endpoint = "http://127.0.0.1:9000///";
  o.path_style = true;
  auto local = S3Backend::Create(o);
  ASSERT_TRUE(local) << local.error().message;
  EXPECT_EQ((*local)->Location(), "s3://shop");
}

// A bucket subdomain of an IP address or of localhost cannot exist ("Could not resolve host:
// bkt.127.0.0.1"): such endpoints are addressed path style whatever path_style says.
TEST(S3OptionsTest, AnIpOrLocalhostEndpointIsAddressedPathStyle) {
  for (const char* endpoint :
       {"http://127.0.0.1:9000", "http://10.0.0.5:9000/", "https://192.168.1.20",
        "http://[::1]:9000", "http://[fd00::5]/s3", "http://localhost:9000", "http://LOCALHOST",
        "http://u@10.0.0.5:9000"}) {
    EXPECT_TRUE(S3EndpointNeedsPathStyle(endpoint)) << endpoint;
  }
  for (const char* endpoint :
       {"", "https://s3.eu-central-1.amazonaws.com", "https://minio.example.com:9000",
        "http://10.0.0.5.nip.io:9000", "http://localhost.example.com", "https://s3.127.example"}) {
    EXPECT_FALSE(S3EndpointNeedsPathStyle(endpoint)) << endpoint;
  }
}

}  // namespace
}  // namespace velin::storage
