// BirthrightPolicy: what access a job brings, from the policy's HR lifecycle
// fields (PolicyDocument fields 40-49, policy/birthright.textproto): the org
// units and job codes HR events may name, birthright rules (org unit + job
// code [+ site] -> roles at scopes, key areas being roles at area scopes),
// the roles whose manual grants are portable across a Move, and the
// prerequisites (attestations) of key roles and areas.
//
// Built once from a validated document and immutable afterwards: thread-safe.
#ifndef IAM_SERVICES_LIFECYCLE_BIRTHRIGHT_H_
#define IAM_SERVICES_LIFECYCLE_BIRTHRIGHT_H_

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/iam/v1/identity.pb.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::lifecycle {

// One role at one scope a job brings, and what it needs first.
struct PlannedGrant {
  std::string role;
  std::string scope;
  // Rule names that grant it, joined with "," when several do.
  std::string rule;
  // Sorted, unique: the role's, the scope's (and its ancestors') and the
  // rule's.
  std::vector<iam::v1::Prerequisite> prerequisites;
};

class BirthrightPolicy {
 public:
  // Every problem of the HR lifecycle fields of `doc`, one line each, naming
  // the field and entry ("birthright_rules[2] \"smt_lead\": role
  // \"line_leed\" is not declared"). Roles and scopes must be declared in the
  // same document. Empty when valid.
  static std::vector<std::string> Validate(const iam::v1::PolicyDocument& doc);

  // INVALID_ARGUMENT listing every problem (Validate) when not valid.
  static absl::StatusOr<BirthrightPolicy> FromDocument(
      const iam::v1::PolicyDocument& doc);

  BirthrightPolicy() = default;  // No rules, no org units, no jobs.

  // OK, or INVALID_ARGUMENT saying what is unknown and where it is declared.
  absl::Status CheckOrgUnit(absl::string_view org_unit) const;
  absl::Status CheckJobCode(absl::string_view job_code) const;
  absl::Status CheckSite(absl::string_view site) const;

  // The grants of every rule matching the person's org unit (or an ancestor
  // unit), job code and site, one per role and scope, sorted by role then
  // scope.
  std::vector<PlannedGrant> GrantsFor(absl::string_view org_unit,
                                      absl::string_view job_code,
                                      absl::string_view site) const;

  // Prerequisites a manual binding of `role` at `scope` would need (used to
  // report, never to block manual grants).
  std::vector<iam::v1::Prerequisite> RequiresFor(absl::string_view role,
                                                 absl::string_view scope) const;

  bool IsPortable(absl::string_view role) const;

  int rule_count() const { return static_cast<int>(rules_.size()); }

 private:
  std::set<std::string, std::less<>> org_units_;
  std::set<std::string, std::less<>> job_codes_;
  std::set<std::string, std::less<>> sites_;
  std::set<std::string, std::less<>> portable_roles_;
  std::map<std::string, std::vector<iam::v1::Prerequisite>, std::less<>>
      role_requires_;
  std::map<std::string, std::vector<iam::v1::Prerequisite>, std::less<>>
      scope_requires_;
  std::vector<iam::v1::BirthrightRule> rules_;
};

// Which prerequisites in `needed` the person lacks (not attested).
std::vector<iam::v1::Prerequisite> MissingPrerequisites(
    const std::vector<iam::v1::Prerequisite>& needed,
    const iam::v1::Person& person);

// "security agreement signed", "background check passed".
std::string PrerequisiteText(iam::v1::Prerequisite p);

}  // namespace iam::lifecycle

#endif  // IAM_SERVICES_LIFECYCLE_BIRTHRIGHT_H_
