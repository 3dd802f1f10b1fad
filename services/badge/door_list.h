// DoorListPublisher: the signed lists offline door controllers admit from.
//
// A list names every active, unexpired badge that may pass an area's doors
// now (schedules aside; the area's rules and schedules travel with it, and
// the controller applies them): employees matching an access level, and
// visitors of active people when the area admits escorted visitors. Each
// entry says until when it holds (badge expiry or the end of the grants it
// rests on).
//
// Every pull recomputes the area's list from the badges and from the grant
// source (asking identity and authz now), and if it differs from the last
// published one publishes a new version, keeping the change in a journal.
// A delta since version V is the merged journal after V: whatever was
// revoked before the pull is removed in that delta. A controller whose
// version is from another epoch (a server restart), older than the journal,
// or newer than the server's, gets a full list instead (full = true).
//
// Thread-safe. The list computation runs outside the lock; publication is
// serialized per publisher.
#ifndef IAM_SERVICES_BADGE_DOOR_LIST_H_
#define IAM_SERVICES_BADGE_DOOR_LIST_H_

#include <atomic>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/optional.h"
#include "proto/iam/v1/badge.pb.h"
#include "services/badge/area_registry.h"
#include "services/badge/badge_registry.h"
#include "services/badge/grant_source.h"
#include "services/badge/list_signer.h"
#include "services/common/clock.h"

namespace iam::badge {

class DoorListPublisher {
 public:
  struct Options {
    // How long a list may be used offline.
    absl::Duration validity = absl::Hours(24);
    // Versions kept per area for deltas.
    int journal_length = 256;
    // Concurrent grant lookups while computing a list.
    int lookup_threads = 8;
  };

  // REQUIRES: every pointer outlives the publisher.
  DoorListPublisher(AreaRegistry* areas, BadgeRegistry* badges,
                    const ListSigner* signer, const Clock* clock, Options options);

  // REQUIRES: `source` outlives the publisher. Until set, lists fail with
  // UNAVAILABLE.
  void set_grant_source(GrantSource* source) { grants_.store(source); }

  // Who may pass the area's doors now, ordered by person id, then badge id.
  // NOT_FOUND for an unknown area; UNAVAILABLE if a grant lookup fails (a
  // partial list would silently drop people).
  absl::StatusOr<std::vector<iam::v1::DoorListEntry>> Entries(
      absl::string_view area_id);

  // NOT_FOUND for an unknown door.
  absl::StatusOr<iam::v1::SignedDoorList> Full(absl::string_view door_id);
  absl::StatusOr<iam::v1::SignedDoorList> Delta(absl::string_view door_id,
                                                absl::string_view epoch,
                                                int64_t since_version);

  const std::string& epoch() const { return epoch_; }

 private:
  using EntryMap = std::map<std::string, iam::v1::DoorListEntry>;  // by card
  using Change = std::map<std::string, absl::optional<iam::v1::DoorListEntry>>;
  struct Published {
    int64_t version = 0;
    EntryMap entries;
    std::deque<std::pair<int64_t, Change>> journal;  // consecutive versions
  };

  // Recomputes and publishes the area's list, then fills `payload` (the area,
  // the version and, for a delta since `since` when it can be served, the
  // changes; else the whole list).
  absl::Status Build(const AreaRule& area, absl::optional<int64_t> since,
                     iam::v1::DoorListPayload* payload);
  absl::StatusOr<iam::v1::SignedDoorList> Sign(const iam::v1::DoorListPayload& p) const;

  AreaRegistry* const areas_;
  BadgeRegistry* const badges_;
  const ListSigner* const signer_;
  const Clock* const clock_;
  const Options options_;
  const std::string epoch_;
  std::atomic<GrantSource*> grants_{nullptr};

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Published> published_ ABSL_GUARDED_BY(mu_);
};

}  // namespace iam::badge

#endif  // IAM_SERVICES_BADGE_DOOR_LIST_H_
