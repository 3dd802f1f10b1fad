// Load-test bookkeeping for //tests:loadgen: per-thread tallies of one load
// phase (latencies, outcomes, decisions), their merge, percentiles, and the
// text / JSON / Markdown renderings of a phase's result.
//
// Latencies are kept exactly (a vector of nanoseconds, sorted once at the
// end): a 10 s phase at 100,000 calls/s is 8 MB, cheaper than being wrong
// about p99.9. A PhaseTally is owned by one thread; merge tallies after the
// threads are joined. Everything else is plain value types.
#ifndef IAM_TESTS_LOADGEN_STATS_H_
#define IAM_TESTS_LOADGEN_STATS_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace iam::testing {

// What one thread counted during the measured window of a phase.
struct PhaseTally {
  // Latency of every finished call (OK or not), nanoseconds.
  std::vector<int64_t> latencies_ns;
  // Calls that finished OK.
  int64_t ok_calls = 0;
  // Failed calls by gRPC status code (grpc::StatusCode as int).
  std::map<int, int64_t> errors_by_code;
  // Decisions returned by OK calls, and how many of them allowed.
  int64_t decisions = 0;
  int64_t allowed = 0;
  // Open loop only: sends due inside the window that never went out, because
  // the outstanding calls did not finish before the drain gave up.
  int64_t missed_sends = 0;

  // Adds `other` into this tally.
  void Merge(PhaseTally&& other);
};

// Latency percentiles, nanoseconds (nearest-rank).
struct LatencySummary {
  int64_t count = 0;
  int64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  double mean = 0;
};

// Sorts `latencies_ns` in place and summarizes it.
LatencySummary Summarize(std::vector<int64_t>& latencies_ns);

// The nearest-rank `fraction` (0 < fraction <= 1) percentile of sorted
// values; 0 for none.
int64_t Percentile(const std::vector<int64_t>& sorted, double fraction);

// The result of one load phase, as printed.
struct PhaseResult {
  std::string name;        // e.g. "check full load"
  std::string rpc;         // "check" or "batch"
  int batch_size = 1;      // checks per call
  int concurrency = 0;     // outstanding calls at most
  double target_rate = 0;  // calls/s scheduled; 0 for closed loop
  double seconds = 0;      // measured window
  int64_t ok_calls = 0;
  int64_t error_calls = 0;
  std::map<int, int64_t> errors_by_code;
  int64_t decisions = 0;
  int64_t allowed = 0;
  int64_t missed_sends = 0;
  LatencySummary latency;
  // CPU used during the whole phase (warm-up included), in cores (CPU
  // seconds per wall second); server_cores is negative when unknown.
  double client_cores = 0;
  double server_cores = -1;
  // CPU the rest of the machine used meanwhile (other processes, steal): a
  // busy neighbour makes every other number here pessimistic.
  double other_cores = 0;
  // Seconds the server kept working after the phase (e.g. writing buffered
  // audit records); -1 if it was still busy when we stopped waiting, 0 if
  // not measured.
  double settle_seconds = 0;

  double calls_per_second() const {
    return seconds > 0 ? (ok_calls + error_calls) / seconds : 0;
  }
  double decisions_per_second() const {
    return seconds > 0 ? decisions / seconds : 0;
  }
  double allowed_fraction() const {
    return decisions > 0 ? static_cast<double>(allowed) / decisions : 0;
  }
};

// Builds a result from a merged tally (sorts its latencies).
PhaseResult MakePhaseResult(PhaseTally& tally);

// Human-readable block of several lines.
std::string FormatPhaseText(const PhaseResult& r);
// One JSON object.
std::string FormatPhaseJson(const PhaseResult& r);
// The header and one row per phase of a Markdown table.
std::string FormatMarkdownTable(const std::vector<PhaseResult>& results);

// Name of a grpc::StatusCode value, e.g. "UNAVAILABLE".
std::string StatusCodeName(int code);

}  // namespace iam::testing

#endif  // IAM_TESTS_LOADGEN_STATS_H_
