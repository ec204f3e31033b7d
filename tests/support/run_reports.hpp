// What `run` owes (SPEC §5), shared by the tests that end a run early: every report of every
// step its options include, and what each file says when the run ended before writing it.
#pragma once

#include <set>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace netpol::test {

// Every report `run` writes when all its steps are in (--mode enforce with policies, the drop
// log on): the same set whatever way the run ends.
inline const std::set<std::string> k_every_run_report = {"junit-run.xml",
                                                         "metrics.txt",
                                                         "junit-detect.xml",
                                                         "provider.json",
                                                         "netpol.env",
                                                         "junit-apply.xml",
                                                         "policies.yaml",
                                                         "plan.txt",
                                                         "plan.json",
                                                         "junit-drops.xml",
                                                         "drop-log.jsonl",
                                                         "drop-log.txt",
                                                         "drop-log.html",
                                                         "drop-summary.json",
                                                         "suggested-policy.yaml",
                                                         "flows-summary.json",
                                                         "gl-code-quality-report.json"};

// Checks a report other than a JUnit one, written because the run ended before it for `why`:
// the flow log and the dotenv empty and the Code Quality report an empty array (anything there
// would be read as a flow, a variable or a finding), metrics.txt counting nothing done, every
// other file a "not written" line with the reason.
inline void expect_run_stand_in(const std::string& name, const std::string& text,
                                const std::string& why) {
  if (name == "drop-log.jsonl" || name == "netpol.env") {
    EXPECT_EQ(text, "") << name << ": an empty log or dotenv claims nothing";
  } else if (name == "gl-code-quality-report.json") {
    EXPECT_EQ(text, "[]\n") << name << ": GitLab reads an array of findings; none claims nothing";
  } else if (name == "metrics.txt") {
    EXPECT_THAT(text, ::testing::HasSubstr("netpol_policies_applied 0\n")) << name;
  } else {
    EXPECT_THAT(text, ::testing::HasSubstr("not written: netpol run ended before it: ")) << name;
    EXPECT_THAT(text, ::testing::HasSubstr(why)) << name;
  }
}

} // namespace netpol::test
