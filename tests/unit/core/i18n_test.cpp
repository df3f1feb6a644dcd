#include "velin/core/i18n.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

namespace velin {
namespace {

TEST(I18n, GermanWhenLangSaysSo) {
  ::setenv("LANG", "de_DE.UTF-8", 1);
  ::unsetenv("LC_ALL");
  ::unsetenv("LC_MESSAGES");
  InitLanguageFromEnvironment();
  EXPECT_EQ(Tr("Creating backup..."), "Erstelle Backup...");
  EXPECT_EQ(TrFormat("Rolled back to {}", "v1.1.9"), "Rollback zu v1.1.9 durchgeführt");
  EXPECT_EQ(Tr("A message without translation"), "A message without translation");
  ::setenv("LC_ALL", "C", 1);  // LC_ALL wins over LANG
  InitLanguageFromEnvironment();
  EXPECT_EQ(Tr("Creating backup..."), "Creating backup...");
  ::unsetenv("LC_ALL");
  ::unsetenv("LANG");
  InitLanguageFromEnvironment();
}

}  // namespace
}  // namespace velin
