// Door-list computation and signing for an area with N badge holders, with
// an in-memory grant source (the cost of the list itself; the gRPC cost of
// the grant lookups is measured end to end by //tests:badge_loadgen).
//   bazel run -c opt //services/badge:door_list_benchmark
#include <memory>
#include <string>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "google/protobuf/text_format.h"
#include "services/badge/door_list.h"
#include "services/badge/fake_grant_source.h"
#include "services/common/clock.h"
#include "services/common/memory_store.h"

namespace iam::badge {
namespace {

constexpr char kArea[] = R"pb(
  areas {
    id: "burning" scope: "site/sz/area/burning" security_level: 3
    owner: "p-owner" time_zone: "Asia/Shanghai" doors { id: "b-1" }
    access_levels {
      name: "techs" roles: "burning_technician"
      schedule { shifts { days: [ "mon", "tue", "wed", "thu", "fri" ] start: "08:00" end: "20:00" } }
    }
  }
)pb";

struct Fixture {
  explicit Fixture(int people) {
    iam::v1::PolicyDocument doc;
    google::protobuf::TextFormat::ParseFromString(kArea, &doc);
    areas = std::move(*AreaRegistry::Open(&store));
    (void)areas->Apply(doc);
    badges = std::move(*BadgeRegistry::Open(&store, &clock));
    signer = std::move(*ListSigner::Ephemeral());
    lists = std::make_unique<DoorListPublisher>(areas.get(), badges.get(), signer.get(),
                                                &clock, DoorListPublisher::Options{});
    lists->set_grant_source(&grants);
    for (int i = 0; i < people; ++i) {
      std::string person = absl::StrFormat("p-%06d", i);
      grants.SetStatus(person, iam::v1::PERSON_STATUS_ACTIVE);
      grants.Grant(person, "site/sz/area/burning", "burning_technician");
      BadgeRegistry::IssueRequest r;
      r.person_id = person;
      r.card_number = absl::StrFormat("04%012X", i);
      r.expires_at = clock.Now() + absl::Hours(24 * 365);
      r.reason = "bench";
      (void)badges->Issue(r);
    }
  }
  MemoryStore store{{"badge"}};
  FakeClock clock{absl::FromUnixSeconds(1800000000)};
  FakeGrantSource grants;
  std::unique_ptr<AreaRegistry> areas;
  std::unique_ptr<BadgeRegistry> badges;
  std::unique_ptr<ListSigner> signer;
  std::unique_ptr<DoorListPublisher> lists;
};

void BM_FullDoorList(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  size_t bytes = 0;
  for (auto _ : state) {
    auto list = f.lists->Full("b-1");
    if (!list.ok()) state.SkipWithError("list failed");
    bytes = list->ByteSizeLong();
  }
  state.counters["list_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_FullDoorList)->Arg(1000)->Arg(10000)->Unit(benchmark::kMillisecond);

void BM_EmptyDelta(benchmark::State& state) {
  Fixture f(static_cast<int>(state.range(0)));
  auto full = f.lists->Full("b-1");
  iam::v1::DoorListPayload p;
  p.ParseFromString(full->payload());
  for (auto _ : state) {
    auto delta = f.lists->Delta("b-1", p.epoch(), p.version());
    benchmark::DoNotOptimize(delta);
  }
}
BENCHMARK(BM_EmptyDelta)->Arg(10000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace iam::badge

BENCHMARK_MAIN();
