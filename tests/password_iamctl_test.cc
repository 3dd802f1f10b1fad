// iamctl's password commands against a real iamd: the password comes on
// stdin (never argv), and the commands' output and exit codes.
#include <stdio.h>
#include <sys/wait.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

struct Result {
  int exit_code;
  std::string output;  // stdout and stderr
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

class PasswordIamctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir("password_iamctl");
    auto started = IamdProcess::Start(dir_ + "/data");
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
  }

  // Runs iamctl as `caller` with `stdin_text` on its standard input.
  Result Run(const std::string& caller, const std::vector<std::string>& args,
             const std::string& stdin_text = "") {
    const std::string input = absl::StrCat(dir_, "/stdin");
    std::ofstream(input) << stdin_text;
    std::vector<std::string> quoted;
    for (const auto& a : args) quoted.push_back(Quote(a));
    std::string cmd = absl::StrCat("IAM_SERVER=", iamd_->address(),
                                   " IAM_CALLER=", Quote(caller), " ",
                                   Quote(Runfile("admin/iamctl")), " ",
                                   absl::StrJoin(quoted, " "), " <", Quote(input),
                                   " 2>&1");
    FILE* pipe = popen(cmd.c_str(), "r");
    Result r{-1, ""};
    if (pipe == nullptr) return r;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) r.output.append(buf, n);
    int status = pclose(pipe);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
  }

  std::string dir_;
  std::unique_ptr<IamdProcess> iamd_;
};

TEST_F(PasswordIamctlTest, SetStatusUnlockRevokeThroughTheCli) {
  ASSERT_EQ(Run("admin", {"person", "create", "p-1001", "--name", "Li Wei",
                          "--org-unit", "ou/production/smt", "--job", "LINE_LEAD",
                          "--site", "sz", "--status", "active", "--reason", "HR-1"})
                .exit_code,
            0);
  Result set = Run("admin", {"password", "set", "p-1001", "--reason", "IT-1"},
                   "lathe coolant smells of pears\n");
  ASSERT_EQ(set.exit_code, 0) << set.output;
  EXPECT_NE(set.output.find("must change"), std::string::npos) << set.output;
  EXPECT_EQ(set.output.find("coolant"), std::string::npos) << set.output;

  Result status = Run("admin", {"password", "status", "p-1001"});
  ASSERT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("has password:    yes"), std::string::npos);
  EXPECT_NE(status.output.find("must change:     yes"), std::string::npos);

  Result weak = Run("admin", {"password", "set", "p-1001"}, "qwertyuiopasdfgh\n");
  EXPECT_EQ(weak.exit_code, 3) << weak.output;  // INVALID_ARGUMENT
  EXPECT_NE(weak.output.find("INVALID_ARGUMENT"), std::string::npos) << weak.output;

  Result unlock = Run("admin", {"password", "unlock", "p-1001", "--reason", "IT-2"});
  EXPECT_EQ(unlock.exit_code, 0) << unlock.output;
  Result revoke = Run("admin", {"password", "revoke", "p-1001", "--reason", "leaver"});
  EXPECT_EQ(revoke.exit_code, 0) << revoke.output;
  EXPECT_NE(revoke.output.find("revoked"), std::string::npos);

  Result denied = Run("p-1001", {"password", "set", "p-1001"},
                      "lathe coolant smells of pears\n");
  EXPECT_EQ(denied.exit_code, 4) << denied.output;  // PERMISSION_DENIED
}

TEST_F(PasswordIamctlTest, CheckReadsStdinAndReportsStrengthAndProblems) {
  Result good = Run("admin", {"password", "check"}, "lathe coolant smells of pears\n");
  EXPECT_EQ(good.exit_code, 0) << good.output;
  EXPECT_NE(good.output.find("acceptable"), std::string::npos) << good.output;
  EXPECT_NE(good.output.find("strength:"), std::string::npos) << good.output;
  Result bad = Run("admin", {"password", "check"}, "sunshine\n");
  EXPECT_EQ(bad.exit_code, 3) << bad.output;
  EXPECT_NE(bad.output.find("rejected"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("at least 15"), std::string::npos) << bad.output;
  Result nothing = Run("admin", {"password", "check"}, "");
  EXPECT_EQ(nothing.exit_code, 2) << nothing.output;
}

TEST_F(PasswordIamctlTest, PolicyShowMarksWhatThePolicySets) {
  Result shown = Run("admin", {"password", "policy", "show"});
  ASSERT_EQ(shown.exit_code, 0) << shown.output;
  EXPECT_NE(shown.output.find("min_length"), std::string::npos) << shown.output;
  EXPECT_NE(shown.output.find("argon2.memory_kib"), std::string::npos);
  EXPECT_NE(shown.output.find("19456"), std::string::npos);
  EXPECT_NE(shown.output.find("policy"), std::string::npos);
  Result json = Run("admin", {"--json", "password", "policy", "show"});
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find("\"effective\""), std::string::npos) << json.output;
}

}  // namespace
}  // namespace iam::testing
