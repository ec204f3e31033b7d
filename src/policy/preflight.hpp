// The permissions a change needs, asked of the server (SelfSubjectAccessReview) before the
// first write, so that a token short of a right changes nothing instead of half the plan.
#pragma once

#include <future>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "kube/api.hpp"
#include "policy/plan.hpp"
#include "util/error.hpp"

namespace netpol::policy {

// SelfSubjectAccessReviews asked at once (KubeApi is thread-safe), answered when needed: the
// likely questions go out with the plan's lists, so the preflight adds no round trip.
class AccessAnswers {
public:
  using Question = std::tuple<std::string, std::string, std::string, std::string>;

  explicit AccessAnswers(kube::KubeApi& api) : m_api(api) {}

  // Sends the questions not asked yet (verb, group, resource, namespace).
  void ask(const std::set<Question>& questions);
  // Waits for the answer to a question asked before; fails as the review did.
  Result<bool> answer(const Question& q) { return m_answers.at(q).get(); }

private:
  kube::KubeApi& m_api;
  std::map<Question, std::shared_future<Result<bool>>> m_answers;
};

// What applying to NetworkPolicies in `ns` takes: asked before the plan says what is needed.
std::set<AccessAnswers::Question> likely_questions(const std::string& ns);

// Every verb the plan's writes need: create and patch for a create (server-side apply is a
// PATCH), patch for an update, delete for a prune (only with `prune`); unchanged items need
// nothing. Kinds are resolved through `api` (one the server does not serve needs
// nothing). Missing rights: ErrorCode::api, http_status 403, listing every one ("patch
// networkpolicies.networking.k8s.io in namespace shop") in the message and in details; a
// review that fails is that failure.
Result<void> preflight(kube::KubeApi& api, const Plan& plan, bool prune, AccessAnswers& answers);

// One missing right as the errors list it: "delete networkpolicies.networking.k8s.io in
// namespace shop", "... (cluster-wide)" for an empty namespace.
std::string missing_right(const std::string& verb, const std::string& group,
                          const std::string& resource, const std::string& ns);

// The error of a command that changed nothing for want of rights: ErrorCode::api, http_status
// 403, "<command>: missing permissions, nothing was <not_done>: <rights> (grant them ...)".
Error missing_permissions(const std::string& command, const std::string& not_done,
                          const std::vector<std::string>& missing);

} // namespace netpol::policy
