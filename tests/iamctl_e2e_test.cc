// iamctl against a real iamd: the commands an admin types, their output and
// exit codes, as scripts rely on them.
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
  for (char c : s) {
    if (c == '\'') {
      q += "'\\''";
    } else {
      q += c;
    }
  }
  return q + "'";
}

class IamctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = IamdProcess::Start(NewTempDir("iamctl"));
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
  }

  Result Run(const std::string& caller, std::vector<std::string> args) {
    std::vector<std::string> quoted;
    for (const auto& a : args) quoted.push_back(Quote(a));
    std::string cmd = absl::StrCat(
        "IAM_SERVER=", iamd_->address(),
        caller.empty() ? "" : absl::StrCat(" IAM_CALLER=", Quote(caller)), " ",
        Quote(Runfile("admin/iamctl")), " ", absl::StrJoin(quoted, " "),
        " </dev/null 2>&1");
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

  std::unique_ptr<IamdProcess> iamd_;
};

TEST_F(IamctlTest, AdminManagesPeopleAndBindingsAndChecksDecide) {
  Result created = Run("admin", {"person", "create", "p-1001", "--name", "Li Wei",
                                 "--org-unit", "ou/production/smt", "--job",
                                 "LINE_LEAD", "--site", "sz", "--status",
                                 "active", "--reason", "HR-2291"});
  ASSERT_EQ(created.exit_code, 0) << created.output;

  Result bound = Run("admin", {"bind", "--person", "p-1001", "--role", "line_lead",
                               "--scope", "site/sz/line/1", "--reason", "CHG-118"});
  ASSERT_EQ(bound.exit_code, 0) << bound.output;

  Result allow = Run("admin", {"check", "p-1001", "mes.work_order:release",
                               "site/sz/line/1"});
  EXPECT_EQ(allow.exit_code, 0) << allow.output;
  EXPECT_NE(allow.output.find("ALLOW"), std::string::npos) << allow.output;
  EXPECT_NE(allow.output.find("line_lead"), std::string::npos) << allow.output;

  Result deny = Run("admin", {"check", "p-1001", "mes.work_order:release",
                              "site/sz/line/2"});
  EXPECT_EQ(deny.exit_code, 1) << deny.output;
  EXPECT_NE(deny.output.find("DENY"), std::string::npos) << deny.output;

  Result json = Run("admin", {"--json", "check", "p-1001", "mes.work_order:view",
                              "site/sz/line/1/"});
  // A malformed scope is a decision input: either a clear error or a denial,
  // never an allow.
  EXPECT_EQ(json.output.find("\"allowed\":true"), std::string::npos) << json.output;

  Result who = Run("admin", {"who-can", "mes.work_order:release", "site/sz/line/1"});
  EXPECT_EQ(who.exit_code, 0) << who.output;
  EXPECT_NE(who.output.find("p-1001"), std::string::npos) << who.output;

  Result suspended = Run("admin", {"person", "update", "p-1001", "--status",
                                   "suspended", "--reason", "SEC-7"});
  ASSERT_EQ(suspended.exit_code, 0) << suspended.output;
  Result after = Run("admin", {"check", "p-1001", "mes.work_order:release",
                               "site/sz/line/1"});
  EXPECT_EQ(after.exit_code, 1) << after.output;

  Result audit = Run("admin", {"audit", "query", "--person", "p-1001"});
  EXPECT_EQ(audit.exit_code, 0) << audit.output;
  EXPECT_NE(audit.output.find("identity.person.update"), std::string::npos)
      << audit.output;
}

TEST_F(IamctlTest, ErrorsHaveExitCodesScriptsCanUse) {
  // No caller at all: a usage error.
  Result anonymous = Run("", {"check", "admin", "iam.people:read", "/"});
  EXPECT_EQ(anonymous.exit_code, 2) << anonymous.output;

  // A caller without iam.bindings:write.
  ASSERT_EQ(Run("admin", {"person", "create", "p-2", "--name", "Op", "--org-unit",
                          "ou/x", "--job", "LINE_OPERATOR", "--site", "sz",
                          "--status", "active"})
                .exit_code,
            0);
  Result denied = Run("p-2", {"bind", "--person", "p-2", "--role", "iam_admin",
                              "--scope", "/", "--reason", "self-service"});
  EXPECT_EQ(denied.exit_code, 4) << denied.output;
  EXPECT_NE(denied.output.find("iam.bindings:write"), std::string::npos)
      << denied.output;

  Result unknown_role = Run("admin", {"bind", "--person", "p-2", "--role", "nope",
                                      "--scope", "site/sz", "--reason", "x"});
  EXPECT_EQ(unknown_role.exit_code, 5) << unknown_role.output;

  Result missing = Run("admin", {"person", "show", "p-404"});
  EXPECT_EQ(missing.exit_code, 5) << missing.output;
}

TEST_F(IamctlTest, PolicyLintAndApplyRoundTrip) {
  Result lint = Run("", {"policy", "lint", Runfile("policy")});
  EXPECT_EQ(lint.exit_code, 0) << lint.output;

  std::string bad = NewTempDir("badpolicy") + "/roles.textproto";
  {
    std::ofstream out(bad);
    out << "roles {\n  name: \"x\"\n  permissions: \"no.such:perm\"\n}\n"
        << "roles {\n  name: \"Bad Name\"\n}\n";
  }
  Result bad_lint = Run("", {"policy", "lint", bad});
  EXPECT_EQ(bad_lint.exit_code, 3) << bad_lint.output;
  EXPECT_NE(bad_lint.output.find(bad + ":3:"), std::string::npos) << bad_lint.output;
  EXPECT_NE(bad_lint.output.find(bad + ":6:"), std::string::npos) << bad_lint.output;

  // The server already runs the sample policy: applying it again is a no-op.
  Result dry = Run("admin", {"policy", "apply", Runfile("policy"), "--dry-run",
                             "--reason", "no change expected"});
  EXPECT_EQ(dry.exit_code, 0) << dry.output;
}

}  // namespace
}  // namespace iam::testing
