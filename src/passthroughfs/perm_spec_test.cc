#include "perm_spec.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

namespace passthroughfs {
namespace {

constexpr mode_t kDir = S_IFDIR;
constexpr mode_t kFile = S_IFREG;

struct Case {
  const char* spec;
  mode_t before;
  mode_t after;
};

class PermSpecApply : public ::testing::TestWithParam<Case> {};

TEST_P(PermSpecApply, GivesTheBits) {
  const Case& c = GetParam();
  PermSpec spec;
  std::string error;
  ASSERT_TRUE(PermSpec::Parse(c.spec, spec, error)) << error;
  EXPECT_EQ(spec.Apply(c.before), c.after)
      << c.spec << " on 0" << std::oct << c.before << " gave 0" << spec.Apply(c.before);
}

INSTANTIATE_TEST_SUITE_P(
    Table, PermSpecApply,
    ::testing::Values(
        Case{"", kFile | 0640, kFile | 0640},
        Case{"0644", kFile | 0700, kFile | 0644},
        Case{"0644", kDir | 04777, kDir | 04644},  // special bits stay
        Case{"o-rwx", kFile | 0777, kFile | 0770},
        Case{"g=rD", kFile | 0777, kFile | 0747},
        Case{"g=rD", kDir | 0700, kDir | 0750},
        Case{"0644,a+X", kFile | 0100, kFile | 0755},  // X looks at the file's own mode
        Case{"0644,a+X", kFile | 0600, kFile | 0644},
        Case{"0644,a+X", kDir | 0000, kDir | 0755},
        Case{"a+X", kFile | 0100, kFile | 0111},
        Case{"a+X", kFile | 0600, kFile | 0600},
        Case{"og-x:og+rD:u=rwX:g+rw", kFile | 0711, kFile | 0764},
        Case{"og-x:og+rD:u=rwX:g+rw", kDir | 0700, kDir | 0775},
        Case{"u=rwX", kFile | 0000, kFile | 0600},
        Case{"gd-w", kDir | 0777, kDir | 0757},
        Case{"gd-w", kFile | 0777, kFile | 0777},
        Case{"f-x", kFile | 0755, kFile | 0644},
        Case{"f-x", kDir | 0755, kDir | 0755},
        Case{"g=u", kFile | 0640, kFile | 0660},
        Case{"ug+o", kFile | 0705, kFile | 0755},
        Case{"o=gw", kFile | 0640, kFile | 0646},
        Case{"u+r-w", kFile | 0200, kFile | 0400},
        Case{"u=rwxs,+t", kFile | 0000, kFile | 0700},
        Case{"=r", kFile | 0777, kFile | 0444},
        Case{"0000,u+rD", kDir | 0755, kDir | 0500},
        Case{"0000,u+rD", kFile | 0755, kFile | 0400}));

TEST(PermSpecParse, RefusesWhatChmodWouldNot) {
  for (const char* bad : {"u", "8", "0644x", "07777777", "u+q", "a+rwz", "df+x", ",", "u+r,",
                          "u*r", "1a"}) {
    PermSpec spec;
    std::string error;
    EXPECT_FALSE(PermSpec::Parse(bad, spec, error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(PermSpecParse, NamesTheBadItem) {
  PermSpec spec;
  std::string error;
  ASSERT_FALSE(PermSpec::Parse("0644:u+q", spec, error));
  EXPECT_NE(error.find("'u+q'"), std::string::npos) << error;
  EXPECT_NE(error.find("'q'"), std::string::npos) << error;
}

}  // namespace
}  // namespace passthroughfs
