// A deterministic, factory-shaped data set for load tests, benchmarks and
// differential tests of the authz engine: a policy (permissions, a role DAG,
// a scope tree), people with their status and groups, role bindings, and a
// realistic mix of access checks, each labelled with the decision a correct
// engine must make.
//
// Everything comes from one seeded std::mt19937_64, so the same options give
// the same data on every machine and every run. The output is plain protos,
// ready to feed to ApplyPolicy / SyncSubject / CreateBinding or straight into
// an engine.
//
// Time: bindings are dated relative to kDatasetNowUnix. Some expired before
// it; the time-bound ones expire decades after it. Labels are computed at
// kDatasetNowUnix, and stay right for any clock between then and 2045, so an
// engine under test may run on a fake clock set to kDatasetNowUnix or on the
// real one.
//
// Stateless functions; ReferenceAuthorizer is immutable after construction
// and thread-safe.
#ifndef IAM_TESTS_DATASET_H_
#define IAM_TESTS_DATASET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/string_view.h"
#include "proto/iam/v1/authz.pb.h"
#include "proto/iam/v1/policy.pb.h"

namespace iam::testing {

inline constexpr uint64_t kDefaultDatasetSeed = 20240611;
// 2026-01-01T00:00:00Z.
inline constexpr int64_t kDatasetNowUnix = 1767225600;

struct DatasetOptions {
  uint64_t seed = kDefaultDatasetSeed;
  // People "p000000", "p000001", ... (ids have at least six digits).
  int people = 10000;
  int roles = 200;
  int permissions = 2000;
  // Roles come in tiers 1..max_inheritance_depth; a tier-t role inherits at
  // least one tier t-1 role (and maybe lower ones), so the longest chain of
  // inheritance is exactly this many roles when there are enough roles.
  int max_inheritance_depth = 5;
  // Scope tree, three levels below the root: "site/s<i>", then
  // "site/s<i>/line/<j>" and "site/s<i>/area/<name>", then
  // "site/s<i>/line/<j>/cell/<k>" and "site/s<i>/area/<name>/station/<k>".
  int sites = 4;
  int lines_per_site = 6;
  int cells_per_line = 4;
  // Groups "group_00", ...; about a third of the people are in one or two,
  // and each group holds one or two bindings.
  int groups = 12;
  // Share of people not ACTIVE (pending, suspended or left, in equal parts).
  double inactive_fraction = 0.0;
  // Share of bindings that expired before kDatasetNowUnix.
  double expired_binding_fraction = 0.02;
  // Share of bindings with an expiry far after kDatasetNowUnix.
  double timed_binding_fraction = 0.05;
};

struct Dataset {
  // Valid: passes iam::authz::ValidatePolicy. Parents precede children.
  iam::v1::PolicyDocument policy;
  // One per person, in id order.
  std::vector<iam::v1::SyncSubjectRequest> subjects;
  // Person bindings (1-3 each), then group bindings. Ids "b0000001", ... are
  // filled in so that decisions can be compared; clear them before
  // CreateBinding, which assigns its own.
  std::vector<iam::v1::RoleBinding> bindings;
};

Dataset GenerateDataset(const DatasetOptions& options = DatasetOptions());

// How a generated check was built: what it tests.
enum class CheckKind {
  kGranted,            // a permission of a bound role, at or below the binding
  kNotGranted,         // a permission none of the person's roles holds
  kOutOfScope,         // a permission the person holds, elsewhere in the tree
  kUnknownPerson,
  kInactivePerson,     // only when the data set has inactive people
  kUnknownPermission,
  kUnknownScope,       // a well-formed path that is not declared
  kExpiredBinding,     // held only through an expired binding
};

absl::string_view CheckKindName(CheckKind kind);

struct LabeledCheck {
  iam::v1::CheckRequest request;
  CheckKind kind;
  // What a correct engine answers at kDatasetNowUnix: ReferenceAuthorizer's
  // verdict. Almost always `kind == kGranted`; a check built to be denied
  // that some other binding happens to allow is kept, labelled allowed.
  bool expected_allowed;
};

// `n` checks against `dataset`, about half allowed; the rest denied for the
// reasons of CheckKind, all of them represented. Deterministic in `seed`.
std::vector<LabeledCheck> GenerateLabeledChecks(const Dataset& dataset, int n,
                                                uint64_t seed);

// The requests of GenerateLabeledChecks(dataset, n, seed).
std::vector<iam::v1::CheckRequest> GenerateChecks(const Dataset& dataset, int n,
                                                  uint64_t seed);

// A slow, plainly written decision procedure over a Dataset, the oracle for
// differential tests of the authz engine. Allows when the person is known
// and ACTIVE, the permission is declared, the scope is declared (or is "/"),
// and a binding of the person or of one of their groups, unexpired at
// `now_unix`, holds a role that grants the permission directly or through
// inheritance, at the check's scope or above it.
class ReferenceAuthorizer {
 public:
  // REQUIRES: `dataset` outlives this object and its policy is valid.
  explicit ReferenceAuthorizer(const Dataset& dataset);

  bool Allows(const iam::v1::CheckRequest& check,
              int64_t now_unix = kDatasetNowUnix) const;

  // The permissions a role grants, with inheritance; empty for an unknown
  // role.
  const absl::flat_hash_set<std::string>& RolePermissions(
      absl::string_view role) const;

  // The bindings that apply to a person: their own and their groups'.
  std::vector<const iam::v1::RoleBinding*> BindingsOf(
      absl::string_view person_id) const;

  bool IsActive(absl::string_view person_id) const;

 private:
  const Dataset& dataset_;
  absl::flat_hash_set<std::string> permissions_;
  absl::flat_hash_set<std::string> scopes_;
  absl::flat_hash_map<std::string, absl::flat_hash_set<std::string>> role_permissions_;
  absl::flat_hash_map<std::string, const iam::v1::SyncSubjectRequest*> subjects_;
  // Subject id ("p000001" or "group_03") -> its bindings.
  absl::flat_hash_map<std::string, std::vector<const iam::v1::RoleBinding*>> person_bindings_;
  absl::flat_hash_map<std::string, std::vector<const iam::v1::RoleBinding*>> group_bindings_;
};

// Whether a binding at `ancestor` covers `path` ("/" covers everything).
bool ScopeCovers(absl::string_view ancestor, absl::string_view path);

}  // namespace iam::testing

#endif  // IAM_TESTS_DATASET_H_
