#include "velin/core/text_encoding.hpp"

#include <gtest/gtest.h>

#include <string>

namespace velin {
namespace {

TEST(TextEncoding, TellsWellFormedUtf8FromBytes) {
  for (const char* ok : {"", "plain", "caf\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x92\xBE",
                         "\xED\x9F\xBF", "\xF4\x8F\xBF\xBF"}) {
    EXPECT_TRUE(IsUtf8(ok)) << ok;
  }
  EXPECT_TRUE(IsUtf8(std::string("a\0b", 3)));
  for (const char* bad : {
           "caf\xE9",           // Latin-1
           "\xC3",              // cut short
           "\xC0\xAF",          // overlong '/'
           "\xE0\x80\xAF",      // overlong, three bytes
           "\xED\xA0\x80",      // a surrogate
           "\xF4\x90\x80\x80",  // past U+10FFFF
           "\xF5\x80\x80\x80",  // no such lead byte
           "\x80",              // a continuation byte alone
           "\xE2\x82",          // cut short
           "\xF0\x9F\x92",      // cut short
       }) {
    EXPECT_FALSE(IsUtf8(bad)) << bad;
  }
}

TEST(TextEncoding, ToUtf8ReplacesEachBadByteAndKeepsTheRest) {
  EXPECT_EQ(ToUtf8("caf\xC3\xA9"), "caf\xC3\xA9");
  EXPECT_EQ(ToUtf8("caf\xE9"), "caf\xEF\xBF\xBD");
  EXPECT_EQ(ToUtf8("\xFF\xFEx\xE2\x82\xAC"), "\xEF\xBF\xBD\xEF\xBF\xBDx\xE2\x82\xAC");
  EXPECT_EQ(ToUtf8("\xE2\x82"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_TRUE(IsUtf8(ToUtf8("\xC0\xAF\xED\xA0\x80\xF4\x90\x80\x80")));
}

TEST(TextEncoding, OneLineEscapesControlCharactersButTab) {
  EXPECT_EQ(OneLine("plain\ttext caf\xC3\xA9"), "plain\ttext caf\xC3\xA9");
  EXPECT_EQ(OneLine("a\nb\rc\x1b[2J\x7f"), "a\\nb\\rc\\x1b[2J\\x7f");
  EXPECT_EQ(OneLine(std::string("nul\0end", 7)), "nul\\x00end");
}

// C1 controls act on a terminal as C0 ones do: U+009B (0xC2 0x9B) is CSI, ESC [ in one
// character, and a lone byte 0x9B is CSI to a terminal that takes 8-bit controls. Each is
// escaped byte by byte; other characters of two bytes (U+00A0 on) and other invalid bytes stay.
TEST(TextEncoding, OneLineEscapesC1ControlsAsCodePointsAndAsLoneBytes) {
  EXPECT_EQ(OneLine("a\xC2\x9BKb"), "a\\xc2\\x9bKb");  // CSI K: erase the line
  EXPECT_EQ(OneLine("\xC2\x80 \xC2\x9F \xC2\xA0 caf\xC3\xA9"),
            "\\xc2\\x80 \\xc2\\x9f \xC2\xA0 caf\xC3\xA9");
  EXPECT_EQ(OneLine("lone \x9BK and \x85, latin-1 \xE9"), "lone \\x9bK and \\x85, latin-1 \xE9");
  // A continuation byte 0x80-0x9F inside a well-formed sequence is not a control: U+00E9 is
  // 0xC3 0xA9, U+20AC (euro) 0xE2 0x82 0xAC, U+1F600 0xF0 0x9F 0x98 0x80.
  EXPECT_EQ(OneLine("\xE2\x82\xAC \xF0\x9F\x98\x80"), "\xE2\x82\xAC \xF0\x9F\x98\x80");
  const TextChar csi = CharAt("\xC2\x9B", 0);
  EXPECT_EQ(csi.size, 2u);
  EXPECT_TRUE(csi.control);
  EXPECT_TRUE(CharAt("\t", 0).control) << "OneLine keeps tab; a quoted path shows it as \\t";
  EXPECT_FALSE(CharAt("\xE2\x82\xAC", 0).control);
  EXPECT_EQ(CharAt("\xE2\x82\xAC", 0).size, 3u);
}

TEST(TextEncoding, DumpJsonWritesWhatItCannotEncodeAsReplacementCharacters) {
  nlohmann::json j = {{"reason", "r\xE9son"}, {"list", {"ok", "caf\xE9"}}};
  EXPECT_THROW((void)j.dump(), nlohmann::json::type_error);  // what it guards against
  const std::string text = DumpJson(j);
  EXPECT_EQ(text, "{\"list\":[\"ok\",\"caf\xEF\xBF\xBD\"],\"reason\":\"r\xEF\xBF\xBDson\"}");
  EXPECT_EQ(nlohmann::json::parse(text).dump(), text);  // parses back to the same text
}

TEST(TextEncoding, Base64RoundTripsEveryLengthAndIsStrict) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("caf\xE9"), "Y2Fm6Q==");
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t n = 0; n <= all.size(); n += 7) {
    auto back = Base64Decode(Base64Encode(all.substr(0, n)));
    ASSERT_TRUE(back) << n;
    EXPECT_EQ(*back, all.substr(0, n));
  }
  EXPECT_EQ(*Base64Decode("Zm9vYmFy"), "foobar");
  for (const char* bad :
       {"Zg=", "Zg", "Z===", "Zh==", "Zm9=", "Zm 9", "Zg==Zg==", "=Zg=", "Zm-v", "Zm_v", "Zg\n="}) {
    EXPECT_FALSE(Base64Decode(bad)) << bad;
  }
}

}  // namespace
}  // namespace velin
