#include "velin/storage/s3_xml.hpp"

#include <gtest/gtest.h>

namespace velin::storage {
namespace {

TEST(S3Xml, ParsesAListPageWithEntitiesAndContinuation) {
  const char* xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bkt</Name>"
      "<Prefix>p/</Prefix><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>"
      "<Contents><Key>p/a&amp;b</Key><Size>12</Size><ETag>&quot;x&quot;</ETag></Contents>"
      "<Contents><Key>p/caf&#xE9;&#33;</Key><Size>0</Size></Contents>"
      "<NextContinuationToken>1/tok+en=</NextContinuationToken></ListBucketResult>";
  auto page = ParseListObjectsV2(xml);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].name, "p/a&b");
  EXPECT_EQ(page->objects[0].size, 12u);
  EXPECT_EQ(page->objects[1].name, "p/caf\xC3\xA9!");
  EXPECT_TRUE(page->truncated);
  EXPECT_EQ(page->next_continuation_token, "1/tok+en=");
}

TEST(S3Xml, ParsesALastPageAndAnEmptyOne) {
  auto last = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>k</Key><Size>3</Size>"
      "</Contents></ListBucketResult>");
  ASSERT_TRUE(last);
  EXPECT_FALSE(last->truncated);
  EXPECT_EQ(last->objects.size(), 1u);
  auto empty =
      ParseListObjectsV2("<ListBucketResult><Prefix/><KeyCount>0</KeyCount></ListBucketResult>");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->objects.empty());
}

TEST(S3Xml, RejectsWhatCannotBeAListing) {
  EXPECT_FALSE(ParseListObjectsV2("<Error><Code>AccessDenied</Code></Error>"));
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><IsTruncated>true</IsTruncated>"));
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Size>1</Size></Contents>"));
  EXPECT_FALSE(
      ParseListObjectsV2("<ListBucketResult><Contents><Key>a</Key><Size>-1</Size></Contents>"));
  EXPECT_FALSE(ParseListObjectsV2("<ListBucketResult><Contents><Key>a&bogus;</Key></Contents>"));
  // Truncated input never reads past the end.
  std::string doc = "<ListBucketResult><Contents><Key>abc</Key><Size>1</Size></Contents>";
  for (size_t n = 0; n < doc.size(); ++n) (void)ParseListObjectsV2(doc.substr(0, n));
}

TEST(S3Xml, ReadsLastModifiedAsUnixSeconds) {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><Contents><Key>locks/shared-1</Key><Size>2</Size>"
      "<LastModified>2026-11-30T03:07:05.000Z</LastModified></Contents>"
      "<Contents><Key>locks/shared-2</Key><Size>2</Size></Contents></ListBucketResult>");
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->objects.size(), 2u);
  EXPECT_EQ(page->objects[0].mtime, 1796008025);
  EXPECT_EQ(page->objects[1].mtime, 0);
  EXPECT_EQ(ParseIsoTime("yesterday"), 0);
}

TEST(S3Xml, ReadsErrorBodies) {
  S3ErrorBody e = ParseS3Error(
      "<?xml version=\"1.0\"?><Error><Code>AuthorizationHeaderMalformed</Code><Message>the region "
      "'us-east-1' is wrong; expecting 'eu-west-1'</Message><Region>eu-west-1</Region></Error>");
  EXPECT_EQ(e.code, "AuthorizationHeaderMalformed");
  EXPECT_EQ(e.region, "eu-west-1");
  EXPECT_NE(e.message.find("expecting"), std::string::npos);
  EXPECT_TRUE(ParseS3Error("not xml").code.empty());
}

TEST(S3Xml, DecodesNumericReferencesToUtf8) {
  EXPECT_EQ(*XmlDecode("&#x1F600;&lt;&gt;&apos;"), "\xF0\x9F\x98\x80<>'");
  EXPECT_FALSE(XmlDecode("&#0;"));
  EXPECT_FALSE(XmlDecode("&#x110000;"));
  EXPECT_FALSE(XmlDecode("a & b"));
}

}  // namespace
}  // namespace velin::storage
