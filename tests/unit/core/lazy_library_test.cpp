// LazyLibrary (velin/core/lazy_library.hpp): a library opened at its first use, with one clear
// error when it is not there.
#include "velin/core/lazy_library.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstring>

namespace velin {
namespace {

TEST(LazyLibraryTest, AMissingLibraryIsNamedWithItsPackage) {
  LazyLibrary lib("libvelin-no-such-library.so.9", "velin-no-such-package");
  for (int i = 0; i < 2; ++i) {  // the first outcome, every time
    Status st = lib.Require();
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().code, ExitCode::kUsage);
    const std::string& m = st.error().message;
    EXPECT_EQ(m.rfind("cannot load libvelin-no-such-library.so.9 (", 0), 0u) << m;
    EXPECT_NE(m.find("): install the velin-no-such-package package"), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(LazyLibraryTest, ALibraryThereGivesItsFunctions) {
  LazyLibrary lib("libz.so.1", "zlib1g");
  ASSERT_TRUE(lib.Require());
  auto version = reinterpret_cast<const char* (*)()>(lib.Symbol("zlibVersion"));
  ASSERT_NE(version, nullptr);
  EXPECT_STREQ(version(), ::zlibVersion());
}

TEST(LazyLibraryDeathTest, AFunctionCalledWithoutItsLibraryEndsVelinWithOneLine) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  LazyLibrary missing("libvelin-no-such-library.so.9", "velin-no-such-package");
  EXPECT_EXIT(missing.Symbol("f"), ::testing::ExitedWithCode(1),
              "^velin: cannot load libvelin-no-such-library.so.9 \\(.*\\): install the "
              "velin-no-such-package package\n$");
  LazyLibrary z("libz.so.1", "zlib1g");
  EXPECT_EXIT(z.Symbol("velin_no_such_function"), ::testing::ExitedWithCode(1),
              "^velin: libz.so.1 has no function velin_no_such_function\n$");
}

}  // namespace
}  // namespace velin
