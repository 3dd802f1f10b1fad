// `iamctl hr ...` against a real iamd: an HR export with good and bad rows
// (dry run first, then for real), the per-row report, and `hr history`
// showing where each grant came from.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/iamd_process.h"

namespace iam::testing {
namespace {

struct Result {
  int exit_code;
  std::string output;
};

class LifecycleIamctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir("lifecycle_iamctl");
    auto started = IamdProcess::Start(dir_ + "/data");
    ASSERT_TRUE(started.ok()) << started.status();
    iamd_ = std::move(*started);
  }

  Result Run(std::vector<std::string> args) {
    std::string cmd = absl::StrCat("IAM_SERVER=", iamd_->address(), " IAM_CALLER=admin ",
                                   Runfile("admin/iamctl"), " ", absl::StrJoin(args, " "),
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

  std::string dir_;
  std::unique_ptr<IamdProcess> iamd_;
};

TEST_F(LifecycleIamctlTest, ImportReportsEachRowAndABadRowChangesNothing) {
  const std::string csv = dir_ + "/export.csv";
  std::ofstream(csv)
      << "event_id,type,person_id,effective_at,display_name,org_unit,job_code,site,"
         "manager_id,reason\n"
      << "H-1,hire,p-lead,,Lead One,ou/production/smt,LINE_LEAD,sz,,HR-1\n"
      << "H-2,hire,p-tech,,Tech Two,ou/production/burning,BURNING_TECHNICIAN,sz,p-lead,HR-2\n"
      << "H-3,hire,p-bad,,Bad Unit,ou/sales,LINE_LEAD,sz,,HR-3\n"
      << "M-1,move,p-lead,2026-01-01T09:00:00,,,LINE_OPERATOR,,,no zone\n"
      << "H-1,hire,p-dup,,Dup,ou/production,LINE_LEAD,sz,,HR-4\n";

  Result dry = Run({"hr", "import", csv, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 3) << dry.output;
  EXPECT_NE(dry.output.find("dry run: nothing changed"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("unknown org unit \"ou/sales\""), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("no time zone"), std::string::npos) << dry.output;
  EXPECT_NE(dry.output.find("repeats line 2"), std::string::npos) << dry.output;
  EXPECT_EQ(Run({"person", "show", "p-lead"}).exit_code, 5);  // nothing applied

  Result real = Run({"hr", "import", csv});
  EXPECT_EQ(real.exit_code, 3) << real.output;
  EXPECT_NE(real.output.find("5 rows: 2 applied, 1 failed, 2 invalid"), std::string::npos)
      << real.output;
  EXPECT_EQ(Run({"person", "show", "p-bad"}).exit_code, 5);

  Result history = Run({"hr", "history", "p-tech"});
  ASSERT_EQ(history.exit_code, 0) << history.output;
  EXPECT_NE(history.output.find("birthright (burning_technician)"), std::string::npos)
      << history.output;
  EXPECT_NE(history.output.find("pending: needs security agreement, background check"),
            std::string::npos)
      << history.output;

  Result attest = Run({"hr", "attest", "p-tech", "security-agreement"});
  ASSERT_EQ(attest.exit_code, 0) << attest.output;
  attest = Run({"hr", "attest", "p-tech", "background-check"});
  ASSERT_EQ(attest.exit_code, 0) << attest.output;
  EXPECT_NE(attest.output.find("granted"), std::string::npos) << attest.output;
  Result check = Run({"check", "p-tech", "burning.firmware:flash", "site/sz/area/burning"});
  EXPECT_EQ(check.exit_code, 0) << check.output;

  // Re-running the same file is harmless: every applied event replays.
  Result again = Run({"hr", "import", csv});
  EXPECT_NE(again.output.find("2 repeated"), std::string::npos) << again.output;

  Result leave = Run({"hr", "leave", "p-tech", "--event", "L-1", "--reason", "resigned"});
  ASSERT_EQ(leave.exit_code, 0) << leave.output;
  EXPECT_NE(leave.output.find("status left at revision"), std::string::npos) << leave.output;
  check = Run({"check", "p-tech", "burning.firmware:flash", "site/sz/area/burning"});
  EXPECT_EQ(check.exit_code, 1) << check.output;
}

}  // namespace
}  // namespace iam::testing
