import Analysis
import AnalysisAI
import Foundation
import JobQueue
import Logging
import SellerStore

/// Builds the analyzer executable's job handler.
public enum AnalyzerJobs {
    /// The handler for `JobKind.analyzerKinds`: opens the registry, a bounded cache of seller stores, and the AI
    /// rewriter when `OPTMAZON_AI_URL` and `OPTMAZON_AI_MODEL` are set (else the rule-based rewrite).
    ///
    /// Logs which rewriter is in use (endpoint and model only, never the key).
    public static func makeHandler(storage: SellerStorage, configuration: AnalyzeConfiguration = AnalyzeConfiguration(),
                                   storeCacheCapacity: Int = 32,
                                   environment: [String: String] = ProcessInfo.processInfo.environment,
                                   logger: Logger) async throws -> AnalyzeJobHandler {
        let control = try await storage.openControlStore()
        let rewriter: (any ListingRewriter)?
        if let ai = ChatCompletionsConfig.fromEnvironment(environment) {
            rewriter = ChatCompletionsRewriter(config: ai, analysisConfig: configuration.analysis)
            logger.info("AI rewrites enabled", metadata: ["endpoint": "\(ai)"])
        } else {
            rewriter = nil
            logger.info("AI rewrites not configured (OPTMAZON_AI_URL, OPTMAZON_AI_MODEL); using the rule-based rewrite")
        }
        return AnalyzeJobHandler(control: control, stores: SellerStoreCache(storage: storage, capacity: storeCacheCapacity),
                                 configuration: configuration, rewriter: rewriter)
    }
}
