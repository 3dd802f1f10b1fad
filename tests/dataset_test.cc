#include "tests/dataset.h"

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/policy.pb.h"
#include "services/authz/policy_validator.h"

namespace iam::testing {
namespace {

using google::protobuf::util::MessageDifferencer;

bool SameDataset(const Dataset& a, const Dataset& b) {
  if (!MessageDifferencer::Equals(a.policy, b.policy)) return false;
  if (a.subjects.size() != b.subjects.size() || a.bindings.size() != b.bindings.size()) {
    return false;
  }
  for (size_t i = 0; i < a.subjects.size(); ++i) {
    if (!MessageDifferencer::Equals(a.subjects[i], b.subjects[i])) return false;
  }
  for (size_t i = 0; i < a.bindings.size(); ++i) {
    if (!MessageDifferencer::Equals(a.bindings[i], b.bindings[i])) return false;
  }
  return true;
}

// Longest inheritance chain, counted in roles; -1 on a cycle.
int MaxInheritanceDepth(const iam::v1::PolicyDocument& policy) {
  std::map<std::string, const iam::v1::Role*> roles;
  for (const auto& r : policy.roles()) roles[r.name()] = &r;
  std::map<std::string, int> depth;  // 0 while being visited
  std::function<int(const std::string&)> visit = [&](const std::string& name) {
    auto it = depth.find(name);
    if (it != depth.end()) return it->second == 0 ? -1 : it->second;
    depth[name] = 0;
    int below = 0;
    for (const std::string& parent : roles.at(name)->inherits()) {
      int d = visit(parent);
      if (d < 0) return -1;
      below = std::max(below, d);
    }
    return depth[name] = below + 1;
  };
  int max_depth = 0;
  for (const auto& [name, role] : roles) {
    int d = visit(name);
    if (d < 0) return -1;
    max_depth = std::max(max_depth, d);
  }
  return max_depth;
}

int ScopeLevel(const std::string& path) {
  if (path == "/") return 0;
  return (std::count(path.begin(), path.end(), '/') + 1) / 2;
}

std::string DescribeIssues(const std::vector<iam::authz::PolicyIssue>& issues) {
  std::vector<std::string> lines;
  for (const auto& issue : issues) lines.push_back(iam::authz::FormatIssue(issue));
  return absl::StrJoin(lines, "\n");
}

class DatasetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { dataset_ = new Dataset(GenerateDataset()); }
  static void TearDownTestSuite() { delete dataset_; }
  static const Dataset* dataset_;
};
const Dataset* DatasetTest::dataset_ = nullptr;

TEST_F(DatasetTest, HasTheRequestedCounts) {
  const Dataset& d = *dataset_;
  EXPECT_EQ(d.policy.permissions_size(), 2000);
  EXPECT_EQ(d.policy.roles_size(), 200);
  ASSERT_EQ(d.subjects.size(), 10000u);
  EXPECT_EQ(d.subjects.front().person_id(), "p000000");
  EXPECT_EQ(d.subjects.back().person_id(), "p009999");
  std::map<std::string, int> bindings_per_person;
  std::set<std::string> groups_with_bindings;
  for (const auto& b : d.bindings) {
    if (b.subject().kind() == iam::v1::SUBJECT_KIND_PERSON) {
      ++bindings_per_person[b.subject().id()];
    } else {
      ASSERT_EQ(b.subject().kind(), iam::v1::SUBJECT_KIND_GROUP);
      groups_with_bindings.insert(b.subject().id());
    }
  }
  std::set<std::string> groups_with_members;
  for (const auto& s : d.subjects) {
    EXPECT_EQ(s.status(), iam::v1::PERSON_STATUS_ACTIVE) << s.person_id();
    const int n = bindings_per_person[s.person_id()];
    EXPECT_GE(n, 1) << s.person_id();
    EXPECT_LE(n, 3) << s.person_id();
    groups_with_members.insert(s.groups().begin(), s.groups().end());
  }
  EXPECT_EQ(bindings_per_person.size(), 10000u);
  EXPECT_GE(groups_with_bindings.size(), 5u);
  EXPECT_EQ(groups_with_members, groups_with_bindings);
}

TEST_F(DatasetTest, PolicyIsValid) {
  const std::vector<iam::authz::PolicyIssue> issues =
      iam::authz::ValidatePolicy(dataset_->policy);
  EXPECT_TRUE(issues.empty()) << DescribeIssues(issues);
}

TEST_F(DatasetTest, RolesFormADagFiveDeep) {
  EXPECT_EQ(MaxInheritanceDepth(dataset_->policy), 5);
}

TEST_F(DatasetTest, BindingsAreWellFormedAtScopesUpToThreeLevelsDeep) {
  const Dataset& d = *dataset_;
  std::set<std::string> scopes = {"/"};
  for (const auto& s : d.policy.scopes()) scopes.insert(s.path());
  std::set<std::string> roles;
  for (const auto& r : d.policy.roles()) roles.insert(r.name());
  std::set<std::string> ids;
  std::map<int, int> per_level;
  int expired = 0, timed = 0;
  for (const auto& b : d.bindings) {
    EXPECT_TRUE(ids.insert(b.id()).second) << b.id();
    EXPECT_TRUE(scopes.count(b.scope())) << b.scope();
    EXPECT_TRUE(roles.count(b.role())) << b.role();
    EXPECT_FALSE(b.reason().empty());
    EXPECT_LE(ScopeLevel(b.scope()), 3) << b.scope();
    ++per_level[ScopeLevel(b.scope())];
    if (b.expires_at_unix() != 0) {
      EXPECT_LT(b.created_at_unix(), b.expires_at_unix());
      (b.expires_at_unix() <= kDatasetNowUnix ? expired : timed)++;
    }
  }
  EXPECT_GT(per_level[1], 0);
  EXPECT_GT(per_level[2], 0);
  EXPECT_GT(per_level[3], 0);
  EXPECT_GT(expired, 0);
  EXPECT_GT(timed, 0);
  // Expiries never fall into the years the labels must stay right for.
  for (const auto& b : d.bindings) {
    if (b.expires_at_unix() > kDatasetNowUnix) {
      EXPECT_GT(b.expires_at_unix(), 2366841600);  // 2045-01-01
    }
  }
}

TEST_F(DatasetTest, IsDeterministicInTheSeed) {
  EXPECT_TRUE(SameDataset(*dataset_, GenerateDataset()));
  DatasetOptions other;
  other.seed = kDefaultDatasetSeed + 1;
  EXPECT_FALSE(SameDataset(*dataset_, GenerateDataset(other)));

  const std::vector<LabeledCheck> a = GenerateLabeledChecks(*dataset_, 2000, 7);
  const std::vector<LabeledCheck> b = GenerateLabeledChecks(*dataset_, 2000, 7);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(MessageDifferencer::Equals(a[i].request, b[i].request)) << i;
    ASSERT_EQ(a[i].kind, b[i].kind);
  }
  const std::vector<iam::v1::CheckRequest> plain = GenerateChecks(*dataset_, 2000, 7);
  ASSERT_EQ(plain.size(), a.size());
  EXPECT_TRUE(MessageDifferencer::Equals(plain[1234], a[1234].request));
}

TEST_F(DatasetTest, ChecksAreAboutHalfAllowedAndDeniedForEveryReason) {
  const int n = 20000;
  const std::vector<LabeledCheck> checks = GenerateLabeledChecks(*dataset_, n, 42);
  ASSERT_EQ(checks.size(), static_cast<size_t>(n));
  ReferenceAuthorizer oracle(*dataset_);
  int allowed = 0;
  std::map<CheckKind, int> count, as_intended;
  for (const LabeledCheck& c : checks) {
    ASSERT_EQ(c.expected_allowed, oracle.Allows(c.request));
    allowed += c.expected_allowed;
    ++count[c.kind];
    as_intended[c.kind] += c.expected_allowed == (c.kind == CheckKind::kGranted);
  }
  EXPECT_GT(allowed, n * 45 / 100);
  EXPECT_LT(allowed, n * 55 / 100);
  for (CheckKind kind :
       {CheckKind::kGranted, CheckKind::kNotGranted, CheckKind::kOutOfScope,
        CheckKind::kUnknownPerson, CheckKind::kUnknownPermission,
        CheckKind::kUnknownScope, CheckKind::kExpiredBinding}) {
    EXPECT_GT(count[kind], n / 50) << CheckKindName(kind);
    EXPECT_GE(as_intended[kind], count[kind] * 95 / 100) << CheckKindName(kind);
  }
  // All active by default, so no check is about an inactive person.
  EXPECT_EQ(count[CheckKind::kInactivePerson], 0);
}

TEST(DatasetOptionsTest, SmallAndInactiveDatasetsStayValid) {
  DatasetOptions options;
  options.people = 300;
  options.roles = 12;
  options.permissions = 40;
  options.max_inheritance_depth = 3;
  options.sites = 2;
  options.lines_per_site = 2;
  options.cells_per_line = 2;
  options.groups = 3;
  options.inactive_fraction = 0.2;
  options.seed = 99;
  const Dataset d = GenerateDataset(options);
  EXPECT_EQ(d.policy.permissions_size(), 40);
  EXPECT_EQ(d.policy.roles_size(), 12);
  EXPECT_EQ(d.subjects.size(), 300u);
  EXPECT_EQ(MaxInheritanceDepth(d.policy), 3);
  const auto issues = iam::authz::ValidatePolicy(d.policy);
  EXPECT_TRUE(issues.empty()) << DescribeIssues(issues);
  int inactive = 0;
  for (const auto& s : d.subjects) inactive += s.status() != iam::v1::PERSON_STATUS_ACTIVE;
  EXPECT_GT(inactive, 30);
  EXPECT_LT(inactive, 90);

  const std::vector<LabeledCheck> checks = GenerateLabeledChecks(d, 2000, 1);
  int inactive_checks = 0;
  for (const LabeledCheck& c : checks) {
    if (c.kind == CheckKind::kInactivePerson) {
      ++inactive_checks;
      EXPECT_FALSE(c.expected_allowed);
    }
  }
  EXPECT_GT(inactive_checks, 20);
}

TEST(DatasetOptionsTest, MorePermissionsThanTheVocabularyStayUniqueAndValid) {
  DatasetOptions options;
  options.people = 10;
  options.permissions = 4000;
  const Dataset d = GenerateDataset(options);
  std::set<std::string> names;
  for (const auto& p : d.policy.permissions()) names.insert(p.name());
  EXPECT_EQ(names.size(), 4000u);
  EXPECT_TRUE(iam::authz::ValidatePolicy(d.policy).empty());
}

// The oracle on a data set small enough to reason about by hand.
class ReferenceAuthorizerTest : public ::testing::Test {
 protected:
  ReferenceAuthorizerTest() {
    auto* policy = &data_.policy;
    for (const char* p : {"mes.work_order:view", "mes.work_order:release", "wms.shipment:dispatch"}) {
      policy->add_permissions()->set_name(p);
    }
    iam::v1::Role* op = policy->add_roles();
    op->set_name("line_operator");
    op->add_permissions("mes.work_order:view");
    iam::v1::Role* lead = policy->add_roles();
    lead->set_name("line_lead");
    lead->add_permissions("mes.work_order:release");
    lead->add_inherits("line_operator");
    iam::v1::Role* dispatch = policy->add_roles();
    dispatch->set_name("dispatch");
    dispatch->add_permissions("wms.shipment:dispatch");
    for (const char* s : {"site/sz", "site/sz/line/1", "site/sz/line/10", "site/hz"}) {
      policy->add_scopes()->set_path(s);
    }
    AddSubject("alice", iam::v1::PERSON_STATUS_ACTIVE, {"dock"});
    AddSubject("bob", iam::v1::PERSON_STATUS_SUSPENDED, {});
    AddBinding(iam::v1::SUBJECT_KIND_PERSON, "alice", "line_lead", "site/sz/line/1", 0);
    AddBinding(iam::v1::SUBJECT_KIND_PERSON, "bob", "line_lead", "/", 0);
    AddBinding(iam::v1::SUBJECT_KIND_GROUP, "dock", "dispatch", "site/hz", 0);
    AddBinding(iam::v1::SUBJECT_KIND_PERSON, "alice", "dispatch", "site/sz",
               kDatasetNowUnix - 1);
  }

  void AddSubject(const std::string& id, iam::v1::PersonStatus status,
                  std::vector<std::string> groups) {
    auto& s = data_.subjects.emplace_back();
    s.set_person_id(id);
    s.set_status(status);
    for (const auto& g : groups) s.add_groups(g);
  }
  void AddBinding(iam::v1::SubjectKind kind, const std::string& id,
                  const std::string& role, const std::string& scope, int64_t expires) {
    auto& b = data_.bindings.emplace_back();
    b.mutable_subject()->set_kind(kind);
    b.mutable_subject()->set_id(id);
    b.set_role(role);
    b.set_scope(scope);
    b.set_expires_at_unix(expires);
  }
  static iam::v1::CheckRequest Check(const std::string& person, const std::string& permission,
                                     const std::string& scope) {
    iam::v1::CheckRequest c;
    c.set_person_id(person);
    c.set_permission(permission);
    c.set_scope(scope);
    return c;
  }

  Dataset data_;
};

TEST_F(ReferenceAuthorizerTest, FollowsInheritanceScopesGroupsStatusAndExpiry) {
  ReferenceAuthorizer oracle(data_);
  EXPECT_TRUE(oracle.Allows(Check("alice", "mes.work_order:release", "site/sz/line/1")));
  EXPECT_TRUE(oracle.Allows(Check("alice", "mes.work_order:view", "site/sz/line/1")));
  EXPECT_FALSE(oracle.Allows(Check("alice", "mes.work_order:view", "site/sz/line/10")));
  EXPECT_FALSE(oracle.Allows(Check("alice", "mes.work_order:view", "site/sz")));
  EXPECT_FALSE(oracle.Allows(Check("alice", "mes.work_order:view", "site/sz/line/1/cell/1")))
      << "undeclared scope";
  EXPECT_TRUE(oracle.Allows(Check("alice", "wms.shipment:dispatch", "site/hz")));
  EXPECT_FALSE(oracle.Allows(Check("alice", "wms.shipment:dispatch", "site/sz")))
      << "expired binding";
  EXPECT_TRUE(oracle.Allows(Check("alice", "wms.shipment:dispatch", "site/sz"),
                            kDatasetNowUnix - 2));
  EXPECT_FALSE(oracle.Allows(Check("bob", "mes.work_order:view", "site/sz"))) << "suspended";
  EXPECT_FALSE(oracle.Allows(Check("carol", "mes.work_order:view", "/")));
  EXPECT_FALSE(oracle.Allows(Check("alice", "mes.work_order:fly", "site/sz/line/1")));
  EXPECT_EQ(oracle.RolePermissions("line_lead").size(), 2u);
  EXPECT_TRUE(oracle.RolePermissions("nobody").empty());
}

TEST(ScopeCoversTest, CoversItselfAndWhatIsBelow) {
  EXPECT_TRUE(ScopeCovers("/", "site/sz"));
  EXPECT_TRUE(ScopeCovers("site/sz", "site/sz"));
  EXPECT_TRUE(ScopeCovers("site/sz", "site/sz/line/1"));
  EXPECT_FALSE(ScopeCovers("site/sz/line/1", "site/sz/line/10"));
  EXPECT_FALSE(ScopeCovers("site/sz/line/1", "site/sz"));
  EXPECT_FALSE(ScopeCovers("site/sz", "/"));
}

}  // namespace
}  // namespace iam::testing
