// Cancellation of the running command. GitLab cancels a job, or ends one that ran past its
// timeout, with SIGTERM (SIGKILL follows after a grace period); a terminal sends SIGINT.
// Neither may kill netpol mid-write: the signal becomes a request that every long wait sees
// (requests in flight, retry back-offs, child processes, readiness polls). What runs then
// starts no new write, never prunes, writes its reports with the cancellation as a failed
// case, and exits 128 + the signal's number (SPEC §3).
#pragma once

#include <string_view>

#include "util/duration.hpp"
#include "util/error.hpp"

namespace netpol::cancel {

// Blocks SIGTERM and SIGINT in the calling thread, and so in every thread it starts later,
// and starts a thread that waits for them: the first requests cancellation, a second one ends
// the process at once with 128 + its number (an impatient user). Call once, first in main(),
// before any other thread exists. Child processes get the default dispositions back
// (util/process).
void handle_signals();

// Requests cancellation as if `signal_number` (SIGTERM, SIGINT) had arrived. Thread-safe.
void request(int signal_number);
// Has cancellation been requested?
bool requested();
// The signal that requested cancellation; 0 when none did.
int signal_number();
// "SIGTERM", "SIGINT", or "signal N".
std::string signal_name(int signal_number);

// Waits `d`, or less when cancellation is requested meanwhile. True when the whole time
// passed without a request.
bool wait_for(Duration d);

// A descriptor that becomes readable once cancellation is requested, for poll() loops; it
// stays readable afterwards (nothing reads it).
int event_fd();

// The Error of work stopped by the cancellation: ErrorCode::cancelled, "<what>: cancelled
// (SIGTERM)". `what` may be empty.
Error error(std::string_view what = {});

// Forgets a request (tests only: each in-process command run starts uncancelled).
void reset();

} // namespace netpol::cancel
