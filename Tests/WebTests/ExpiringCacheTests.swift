import Foundation
import Testing
@testable import Web

struct ExpiringCacheTests {
    struct Refused: Error {}

    @Test func anExpiredValue_isComputedByOneCaller_whileTheOthersKeepTheOldOne() throws {
        let cache = ExpiringCache<Int>(seconds: 0.05)
        #expect(cache.value("k") { 1 } == 1)
        #expect(cache.value("k") { 99 } == 1)  // still fresh
        Thread.sleep(forTimeInterval: 0.1)
        let computing = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            _ = cache.value("k") {
                computing.signal()
                release.wait()
                return 2
            }
            done.signal()
        }
        computing.wait()
        // The refresh is under way: others are not held up and do not compute it again.
        #expect(cache.value("k") { Issue.record("a second computation"); return 3 } == 1)
        release.signal()
        done.wait()
        #expect(cache.value("k") { 4 } == 2)
    }

    @Test func aFailedRefresh_keepsTheOldValue_andTheNextCallerTriesAgain() throws {
        let cache = ExpiringCache<Int>(seconds: 0.05)
        #expect(cache.value("k") { 1 } == 1)
        Thread.sleep(forTimeInterval: 0.1)
        #expect(throws: Refused.self) { try cache.value("k") { throw Refused() } }
        #expect(cache.value("k") { 5 } == 5)
    }

    @Test func pastItsCapacity_valuesAreComputedButNotKept() throws {
        let cache = ExpiringCache<String>(seconds: 60, capacity: 2)
        var computed = 0
        for key in ["a", "b", "c", "c"] { _ = cache.value(key) { computed += 1; return key } }
        #expect(computed == 4)  // "c" found no room, twice
        for key in ["a", "b"] { _ = cache.value(key) { computed += 1; return key } }
        #expect(computed == 4)
    }

    @Test func aSharedPage_isSplitWhereTheViewersPartGoes() throws {
        let page = SharedPage(Array("<header>\(SharedPage.viewerMark)</header><p>&lt;!--mes:viewer--&gt;</p>".utf8))
        #expect(page.map { String(decoding: $0.before, as: UTF8.self) } == "<header>")
        #expect(page.map { String(decoding: $0.after, as: UTF8.self) } == "</header><p>&lt;!--mes:viewer--&gt;</p>")
        #expect(SharedPage(Array("<p>no layout</p>".utf8)) == nil)
    }
}
