#include "services/badge/door_list.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/badge/admission.h"
#include "services/common/status_macros.h"

namespace iam::badge {
namespace {

std::string NewEpoch() {
  absl::BitGen gen;
  return absl::StrFormat("%016x", absl::Uniform<uint64_t>(gen));
}

bool SameEntry(const iam::v1::DoorListEntry& a, const iam::v1::DoorListEntry& b) {
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

}  // namespace

DoorListPublisher::DoorListPublisher(AreaRegistry* areas, BadgeRegistry* badges,
                                     const ListSigner* signer, const Clock* clock,
                                     Options options)
    : areas_(areas),
      badges_(badges),
      signer_(signer),
      clock_(clock),
      options_(options),
      epoch_(NewEpoch()) {}

absl::StatusOr<std::vector<iam::v1::DoorListEntry>> DoorListPublisher::Entries(
    absl::string_view area_id) {
  std::shared_ptr<const AreaSet> areas = areas_->snapshot();
  const AreaRule* area = areas->FindArea(area_id);
  if (area == nullptr) {
    return absl::NotFoundError(absl::StrCat("no area '", area_id, "'"));
  }
  GrantSource* source = grants_.load();
  if (source == nullptr) {
    return absl::UnavailableError("the server is starting; retry");
  }
  const std::vector<iam::v1::Badge> badges = badges_->ActiveBadges();
  const bool visitors = area->proto.visitor_escort_window_seconds() > 0;
  std::vector<absl::optional<iam::v1::DoorListEntry>> slots(badges.size());
  std::vector<absl::Status> errors(badges.size());

  auto work = [&](size_t begin, size_t step) {
    for (size_t i = begin; i < badges.size(); i += step) {
      const iam::v1::Badge& b = badges[i];
      const bool visitor = b.kind() == iam::v1::BADGE_KIND_VISITOR;
      if (visitor && !visitors) continue;
      absl::StatusOr<PersonGrants> grants = source->Lookup(b.person_id(), area->proto.scope());
      if (!grants.ok()) {
        if (!absl::IsNotFound(grants.status())) errors[i] = grants.status();
        continue;
      }
      if (grants->status != iam::v1::PERSON_STATUS_ACTIVE) continue;
      iam::v1::DoorListEntry e;
      absl::Time until = absl::FromUnixSeconds(b.expires_at_unix());
      if (!visitor) {
        std::vector<LevelMatch> matches =
            MatchLevels(*area, b.person_id(), *grants, clock_->Now());
        if (matches.empty()) continue;
        absl::Time grant_until = absl::InfinitePast();
        for (const LevelMatch& m : matches) {
          e.add_access_levels(m.level->name);
          grant_until = std::max(grant_until, m.until);
        }
        until = std::min(until, grant_until);
      }
      e.set_card_number(b.card_number());
      e.set_badge_id(b.id());
      e.set_person_id(b.person_id());
      e.set_kind(b.kind());
      e.set_valid_until_unix(absl::ToUnixSeconds(until));
      slots[i] = std::move(e);
    }
  };
  const size_t threads = std::max<size_t>(
      1, std::min<size_t>(options_.lookup_threads, badges.size() / 64 + 1));
  std::vector<std::thread> workers;
  for (size_t t = 1; t < threads; ++t) workers.emplace_back(work, t, threads);
  work(0, threads);
  for (std::thread& w : workers) w.join();

  std::vector<iam::v1::DoorListEntry> out;
  for (size_t i = 0; i < badges.size(); ++i) {
    if (!errors[i].ok()) {
      return absl::UnavailableError(absl::StrCat(
          "cannot compute the list of area ", area_id, ": ", errors[i].message()));
    }
    if (slots[i].has_value()) out.push_back(*std::move(slots[i]));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.person_id(), a.badge_id()) < std::tie(b.person_id(), b.badge_id());
  });
  return out;
}

absl::Status DoorListPublisher::Build(const AreaRule& area,
                                      absl::optional<int64_t> since,
                                      iam::v1::DoorListPayload* payload) {
  ASSIGN_OR_RETURN(std::vector<iam::v1::DoorListEntry> entries,
                   Entries(area.proto.id()));
  EntryMap next;
  for (iam::v1::DoorListEntry& e : entries) {
    std::string card = e.card_number();
    next.emplace(std::move(card), std::move(e));
  }
  const absl::Time now = clock_->Now();
  *payload->mutable_area() = area.proto;
  payload->set_epoch(epoch_);
  payload->set_generated_at_unix(absl::ToUnixSeconds(now));
  payload->set_valid_until_unix(absl::ToUnixSeconds(now + options_.validity));

  absl::MutexLock lock(&mu_);
  Published& pub = published_[area.proto.id()];
  Change change;
  for (const auto& [card, e] : pub.entries) {
    auto it = next.find(card);
    if (it == next.end()) change[card] = absl::nullopt;
  }
  for (const auto& [card, e] : next) {
    auto it = pub.entries.find(card);
    if (it == pub.entries.end() || !SameEntry(it->second, e)) change[card] = e;
  }
  if (!change.empty() || pub.version == 0) {
    ++pub.version;
    pub.journal.emplace_back(pub.version, std::move(change));
    while (static_cast<int>(pub.journal.size()) > options_.journal_length) {
      pub.journal.pop_front();
    }
    pub.entries = std::move(next);
  }
  payload->set_version(pub.version);
  const bool delta_possible = since.has_value() && *since <= pub.version &&
                              !pub.journal.empty() &&
                              *since >= pub.journal.front().first - 1;
  if (!delta_possible) {
    payload->set_full(true);
    for (const auto& [card, e] : pub.entries) *payload->add_entries() = e;
    return absl::OkStatus();
  }
  payload->set_since_version(*since);
  Change merged;
  for (const auto& [version, c] : pub.journal) {
    if (version <= *since) continue;
    for (const auto& [card, e] : c) merged[card] = e;
  }
  for (const auto& [card, e] : merged) {
    if (e.has_value()) {
      *payload->add_entries() = *e;
    } else {
      payload->add_removed_card_numbers(card);
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<iam::v1::SignedDoorList> DoorListPublisher::Sign(
    const iam::v1::DoorListPayload& p) const {
  iam::v1::SignedDoorList out;
  std::string bytes = p.SerializeAsString();
  ASSIGN_OR_RETURN(std::string signature, signer_->Sign(bytes));
  out.set_payload(std::move(bytes));
  out.set_signature(std::move(signature));
  out.set_key_id(signer_->key_id());
  out.set_public_key(signer_->public_key());
  return out;
}

absl::StatusOr<iam::v1::SignedDoorList> DoorListPublisher::Full(
    absl::string_view door_id) {
  std::shared_ptr<const AreaSet> areas = areas_->snapshot();
  const AreaRule* area = areas->AreaOfDoor(door_id);
  if (area == nullptr) {
    return absl::NotFoundError(absl::StrCat("no door '", door_id, "'"));
  }
  iam::v1::DoorListPayload payload;
  RETURN_IF_ERROR(Build(*area, absl::nullopt, &payload));
  return Sign(payload);
}

absl::StatusOr<iam::v1::SignedDoorList> DoorListPublisher::Delta(
    absl::string_view door_id, absl::string_view epoch, int64_t since_version) {
  std::shared_ptr<const AreaSet> areas = areas_->snapshot();
  const AreaRule* area = areas->AreaOfDoor(door_id);
  if (area == nullptr) {
    return absl::NotFoundError(absl::StrCat("no door '", door_id, "'"));
  }
  if (since_version < 0) {
    return absl::InvalidArgumentError(
        "since_version must be the version of the controller's list (>= 0)");
  }
  iam::v1::DoorListPayload payload;
  absl::optional<int64_t> since;
  if (epoch == epoch_) since = since_version;
  RETURN_IF_ERROR(Build(*area, since, &payload));
  return Sign(payload);
}

}  // namespace iam::badge
