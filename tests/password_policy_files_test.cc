// The password policy as policy-as-code: policy/password.textproto loads
// clean through the loader, and mistakes in a password_policy block are
// reported at their file:line:column.
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "services/password/password_policy.h"
#include "services/policy/policy_loader.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

using policy::LintIssue;
using policy::LoadPolicyFiles;

std::string Write(const std::string& dir, const std::string& name,
                  const std::string& text) {
  std::string path = absl::StrCat(dir, "/", name);
  std::ofstream(path) << text;
  return path;
}

TEST(PasswordPolicyFilesTest, SampleFileSpellsOutTheDefaults) {
  auto files = policy::PolicyFilesInDir("policy");
  ASSERT_TRUE(files.ok()) << files.status();
  policy::LoadedPolicy loaded = LoadPolicyFiles(*files);
  ASSERT_TRUE(loaded.issues.empty()) << policy::FormatIssue(loaded.issues[0]);
  ASSERT_TRUE(loaded.merged.has_password_policy());
  iam::v1::PasswordPolicy sample = loaded.merged.password_policy();
  sample.clear_blocked_passwords();  // the factory's own words
  const iam::v1::PasswordPolicy defaults = password::DefaultPasswordPolicy();
  EXPECT_EQ(sample.SerializeAsString(), defaults.SerializeAsString())
      << sample.DebugString();
}

TEST(PasswordPolicyFilesTest, BadValuesArePointedAtWithTheirField) {
  const std::string dir = NewTempDir("password_policy_files");
  const std::string path = Write(dir, "password.textproto",
                                 "# comment\n"
                                 "password_policy {\n"
                                 "  min_length: 12\n"
                                 "  lockout_threshold: 500\n"
                                 "  argon2 {\n"
                                 "    memory_kib: 1024\n"
                                 "  }\n"
                                 "}\n");
  policy::LoadedPolicy loaded = LoadPolicyFiles({path});
  ASSERT_EQ(loaded.issues.size(), 2u);
  const LintIssue& lockout = loaded.issues[0];
  EXPECT_EQ(lockout.line, 4);
  EXPECT_EQ(lockout.column, 3);
  EXPECT_NE(lockout.message.find("lockout_threshold"), std::string::npos);
  EXPECT_NE(lockout.message.find("100"), std::string::npos);
  const LintIssue& memory = loaded.issues[1];
  EXPECT_EQ(memory.line, 6);
  EXPECT_NE(memory.message.find("argon2.memory_kib"), std::string::npos);
}

TEST(PasswordPolicyFilesTest, PolicyInTwoFilesIsReportedAtTheSecond) {
  const std::string dir = NewTempDir("password_policy_twice");
  const std::string a = Write(dir, "a.textproto", "password_policy { min_length: 16 }\n");
  const std::string b =
      Write(dir, "b.textproto", "\n\npassword_policy { min_length: 20 }\n");
  policy::LoadedPolicy loaded = LoadPolicyFiles({a, b});
  ASSERT_EQ(loaded.issues.size(), 1u);
  EXPECT_EQ(loaded.issues[0].file, b);
  EXPECT_EQ(loaded.issues[0].line, 3);
  EXPECT_NE(loaded.issues[0].message.find("one place"), std::string::npos);
}

}  // namespace
}  // namespace iam::testing
