// AreaRegistry: the key areas in force, persisted in the store's "badge"
// column (serialized iam.v1.Area under "area/<id>") and published as an
// immutable AreaSet that decisions read without locks.
//
// Areas are policy: they come from PolicyDocument.areas (policy/
// areas.textproto), applied at iamd's first start or with --apply_policy
// (ApplyAreasFromPolicyDir).
//
// Thread-safe.
#ifndef IAM_SERVICES_BADGE_AREA_REGISTRY_H_
#define IAM_SERVICES_BADGE_AREA_REGISTRY_H_

#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "proto/iam/v1/policy.pb.h"
#include "services/badge/area_model.h"
#include "services/badge/columns.h"
#include "services/common/store.h"

namespace iam::badge {

class AreaRegistry {
 public:
  // Loads the stored areas. DATA_LOSS if a record does not parse or the
  // stored set no longer validates. REQUIRES: store outlives the registry.
  static absl::StatusOr<std::unique_ptr<AreaRegistry>> Open(Store* store);

  // The areas in force. Cheap: a shared pointer copy.
  std::shared_ptr<const AreaSet> snapshot() const;

  // Whether any area is stored.
  bool empty() const { return snapshot()->areas().empty(); }

  // Replaces every area with `doc.areas()`, validated against the scopes
  // and roles `doc` declares. A rejected set changes nothing. Returns the
  // revision committed at (0 if nothing changed). A set `commit` (an
  // audited commit) is told how many areas the write adds, changes or
  // removes ("2 areas").
  absl::StatusOr<Revision> Apply(const iam::v1::PolicyDocument& doc,
                                 const NamedCommitFn& commit = nullptr);

 private:
  explicit AreaRegistry(Store* store) : store_(store) {}

  Store* const store_;
  absl::Mutex write_mu_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const AreaSet> areas_ ABSL_GUARDED_BY(mu_);
};

// Applies the areas of the *.textproto policy in `dir` when the registry
// holds none yet, or always with `always`. Empty `dir`: nothing. `commit`
// as for AreaRegistry::Apply.
absl::Status ApplyAreasFromPolicyDir(const std::string& dir, bool always,
                                     AreaRegistry* registry,
                                     const NamedCommitFn& commit = nullptr);

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_AREA_REGISTRY_H_
