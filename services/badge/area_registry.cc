#include "services/badge/area_registry.h"

#include <iostream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/common/status_macros.h"
#include "services/policy/policy_loader.h"

namespace iam::badge {
namespace {

constexpr absl::string_view kAreaPrefix = "area/";

}  // namespace

absl::StatusOr<std::unique_ptr<AreaRegistry>> AreaRegistry::Open(Store* store) {
  std::unique_ptr<AreaRegistry> registry(new AreaRegistry(store));
  google::protobuf::RepeatedPtrField<iam::v1::Area> areas;
  bool corrupt = false;
  RETURN_IF_ERROR(store->Scan(kBadgeColumn, kAreaPrefix,
                              [&](absl::string_view, absl::string_view value) {
                                if (!areas.Add()->ParseFromArray(
                                        value.data(), static_cast<int>(value.size()))) {
                                  corrupt = true;
                                  return false;
                                }
                                return true;
                              }));
  if (corrupt) return absl::DataLossError("a stored area does not parse");
  absl::StatusOr<std::shared_ptr<const AreaSet>> set = AreaSet::Build(areas);
  if (!set.ok()) {
    return absl::DataLossError(
        absl::StrCat("the stored areas do not validate: ", set.status().message()));
  }
  registry->areas_ = *std::move(set);
  return registry;
}

std::shared_ptr<const AreaSet> AreaRegistry::snapshot() const {
  absl::MutexLock lock(&mu_);
  return areas_;
}

absl::StatusOr<Revision> AreaRegistry::Apply(const iam::v1::PolicyDocument& doc,
                                             const NamedCommitFn& commit) {
  AreaContext context;
  for (const auto& s : doc.scopes()) context.scopes.insert(s.path());
  for (const auto& r : doc.roles()) context.roles.insert(r.name());
  ASSIGN_OR_RETURN(std::shared_ptr<const AreaSet> next,
                   AreaSet::Build(doc.areas(), context));
  absl::MutexLock write(&write_mu_);
  std::shared_ptr<const AreaSet> cur = snapshot();
  WriteBatch batch;
  for (const auto& area : cur->areas()) {
    if (next->FindArea(area->proto.id()) == nullptr) {
      batch.Delete(kBadgeColumn, absl::StrCat(kAreaPrefix, area->proto.id()));
    }
  }
  for (const auto& area : next->areas()) {
    const AreaRule* old = cur->FindArea(area->proto.id());
    if (old != nullptr && google::protobuf::util::MessageDifferencer::Equals(
                              old->proto, area->proto)) {
      continue;
    }
    batch.Put(kBadgeColumn, absl::StrCat(kAreaPrefix, area->proto.id()),
              area->proto.SerializeAsString());
  }
  if (batch.empty()) return 0;
  ASSIGN_OR_RETURN(
      Revision revision,
      CommitThrough(NameCommit(commit, absl::StrCat(batch.ops().size(), " areas")),
                    *store_, batch));
  absl::MutexLock lock(&mu_);
  areas_ = std::move(next);
  return revision;
}

absl::Status ApplyAreasFromPolicyDir(const std::string& dir, bool always,
                                     AreaRegistry* registry,
                                     const NamedCommitFn& commit) {
  if (dir.empty() || (!always && !registry->empty())) return absl::OkStatus();
  ASSIGN_OR_RETURN(std::vector<std::string> files, policy::PolicyFilesInDir(dir));
  ASSIGN_OR_RETURN(iam::v1::PolicyDocument doc, policy::LoadPolicyOrError(files));
  absl::StatusOr<Revision> applied = registry->Apply(doc, commit);
  if (!applied.ok()) {
    return absl::Status(applied.status().code(),
                        absl::StrCat("areas in ", dir, ": ", applied.status().message()));
  }
  std::cerr << "iamd: " << registry->snapshot()->areas().size()
            << " key areas from " << dir
            << (*applied == 0 ? " (unchanged)" : absl::StrCat(" at revision ", *applied))
            << "\n";
  return absl::OkStatus();
}

}  // namespace iam::badge
