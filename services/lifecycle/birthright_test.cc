#include "services/lifecycle/birthright.h"

#include "absl/strings/str_join.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "services/policy/policy_loader.h"

namespace iam::lifecycle {
namespace {

iam::v1::PolicyDocument Doc(const std::string& text) {
  iam::v1::PolicyDocument doc;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &doc)) << text;
  return doc;
}

const char kBase[] = R"pb(
  roles { name: "line_operator" }
  roles { name: "burning_lead" requires: PREREQUISITE_SECURITY_AGREEMENT_SIGNED }
  roles { name: "auditor" }
  scopes { path: "site/sz" }
  scopes { path: "site/sz/area/burning" }
  scopes { path: "site/hz" }
  org_units { path: "ou/production" }
  org_units { path: "ou/production/smt" }
  job_codes { code: "LINE_OPERATOR" }
  job_codes { code: "BURNING_LEAD" }
  scope_prerequisites { scope: "site/sz/area/burning" requires: PREREQUISITE_BACKGROUND_CHECK_PASSED }
  portable_roles: "auditor"
)pb";

TEST(BirthrightTest, MatchesOrgUnitSubtreeJobAndSite) {
  auto policy = BirthrightPolicy::FromDocument(Doc(std::string(kBase) + R"pb(
    birthright_rules {
      name: "op"
      org_unit: "ou/production"
      job_code: "LINE_OPERATOR"
      grants { role: "line_operator" scope: "site/{site}" }
    }
    birthright_rules {
      name: "lead_sz"
      org_unit: "ou/production"
      job_code: "BURNING_LEAD"
      site: "sz"
      grants { role: "burning_lead" scope: "site/sz/area/burning" }
      grants { role: "line_operator" scope: "site/{site}" }
    }
  )pb"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  auto op = policy->GrantsFor("ou/production/smt", "LINE_OPERATOR", "hz");
  ASSERT_EQ(op.size(), 1u);
  EXPECT_EQ(op[0].scope, "site/hz");
  EXPECT_EQ(op[0].rule, "op");
  EXPECT_TRUE(policy->GrantsFor("ou/productionx", "LINE_OPERATOR", "sz").empty());
  EXPECT_TRUE(policy->GrantsFor("ou/production", "BURNING_LEAD", "hz").empty());
  auto lead = policy->GrantsFor("ou/production", "BURNING_LEAD", "sz");
  ASSERT_EQ(lead.size(), 2u);
  EXPECT_EQ(lead[0].role, "burning_lead");
  // The role's prerequisite plus the area's.
  EXPECT_EQ(lead[0].prerequisites,
            (std::vector<iam::v1::Prerequisite>{iam::v1::PREREQUISITE_SECURITY_AGREEMENT_SIGNED,
                                                iam::v1::PREREQUISITE_BACKGROUND_CHECK_PASSED}));
  EXPECT_TRUE(lead[1].prerequisites.empty());
  EXPECT_TRUE(policy->IsPortable("auditor"));
  EXPECT_FALSE(policy->IsPortable("line_operator"));
}

TEST(BirthrightTest, ReportsEveryProblemWithItsLocation) {
  std::vector<std::string> issues = BirthrightPolicy::Validate(Doc(std::string(kBase) + R"pb(
    org_units { path: "production" }
    job_codes { code: "line lead" }
    birthright_rules {
      name: "Bad Name"
      org_unit: "ou/nowhere"
      job_code: "CEO"
      site: "xx"
    }
    birthright_rules {
      name: "any_site"
      org_unit: "ou/production"
      job_code: "LINE_OPERATOR"
      grants { role: "line_leed" scope: "site/{site}/area/burning" }
    }
    portable_roles: "ghost"
  )pb"));
  std::string all = absl::StrJoin(issues, "\n");
  EXPECT_NE(all.find("org_units[2] \"production\""), std::string::npos) << all;
  EXPECT_NE(all.find("job_codes[2] \"line lead\""), std::string::npos) << all;
  EXPECT_NE(all.find("birthright_rules[0] \"Bad Name\": name must be"), std::string::npos) << all;
  EXPECT_NE(all.find("org_unit \"ou/nowhere\" is not declared"), std::string::npos) << all;
  EXPECT_NE(all.find("job_code \"CEO\" is not declared"), std::string::npos) << all;
  EXPECT_NE(all.find("site \"xx\""), std::string::npos) << all;
  EXPECT_NE(all.find("has no grants"), std::string::npos) << all;
  EXPECT_NE(all.find("role \"line_leed\" is not declared"), std::string::npos) << all;
  // {site} expands to every site; hz has no burning area.
  EXPECT_NE(all.find("scope \"site/hz/area/burning\" (for site hz) is not declared; restrict"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("portable_roles[1] \"ghost\""), std::string::npos) << all;
  EXPECT_FALSE(BirthrightPolicy::FromDocument(Doc(std::string(kBase) + "portable_roles: \"ghost\""))
                   .ok());
}

TEST(BirthrightTest, UnknownOrgUnitJobAndSiteSayWhatToFix) {
  auto policy = BirthrightPolicy::FromDocument(Doc(kBase));
  ASSERT_TRUE(policy.ok());
  EXPECT_TRUE(policy->CheckOrgUnit("ou/production/smt").ok());
  absl::Status ou = policy->CheckOrgUnit("ou/sales");
  EXPECT_EQ(ou.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ou.message().find("declare it in org_units"), std::string::npos);
  EXPECT_EQ(policy->CheckJobCode("CEO").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(policy->CheckSite("hz").ok());
  EXPECT_EQ(policy->CheckSite("bj").code(), absl::StatusCode::kInvalidArgument);
}

TEST(BirthrightTest, SamplePolicyIsValid) {
  auto files = policy::PolicyFilesInDir("policy");
  ASSERT_TRUE(files.ok()) << files.status();
  auto doc = policy::LoadPolicyOrError(*files);
  ASSERT_TRUE(doc.ok()) << doc.status();
  auto policy = BirthrightPolicy::FromDocument(*doc);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_GT(policy->rule_count(), 5);
  auto tech = policy->GrantsFor("ou/production/burning", "BURNING_TECHNICIAN", "sz");
  ASSERT_EQ(tech.size(), 1u);
  EXPECT_EQ(tech[0].scope, "site/sz/area/burning");
  EXPECT_EQ(tech[0].prerequisites.size(), 2u);
}

}  // namespace
}  // namespace iam::lifecycle
