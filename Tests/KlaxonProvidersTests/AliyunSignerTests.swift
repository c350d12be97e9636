import Foundation
import KlaxonProviders
import Testing

/// VENDORS.md §1.7: every Aliyun test vector and every percent-encoder case.
@Suite struct AliyunSignerTests {
    /// V-A3's parameters (POST, secret `testsecret`).
    static let va3: [String: String] = [
        "AccessKeyId": "testid", "Action": "SingleCallByVoice", "CalledNumber": "13700000000",
        "CalledShowNumber": "4001112222", "Format": "JSON", "OutId": "abcdefgh", "PlayTimes": "3",
        "RegionId": "cn-hangzhou", "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "c0ffee00-1234-4abc-8def-0123456789ab", "SignatureVersion": "1.0",
        "Timestamp": "2024-01-02T03:04:05Z", "Version": "2017-05-25",
        "VoiceCode": "2d4c-4e78-8d2a-afbb06cf6216.wav", "Volume": "100",
    ]

    @Test(arguments: [
        ("a b", "a%20b"), ("*", "%2A"), ("~", "~"), ("+", "%2B"), ("/", "%2F"), ("=", "%3D"), ("&", "%26"), ("%", "%25"),
        ("!'()", "%21%27%28%29"), ("派", "%E6%B4%BE"), ("2024-01-02T03:04:05Z", "2024-01-02T03%3A04%3A05Z"),
        ("AZaz09-_.", "AZaz09-_."), ("", ""),
    ])
    func percentEncoderCases(input: String, expected: String) {
        #expect(AliyunRPCSigner.percentEncode(input) == expected)
    }

    @Test func va1AlibabaSMSExample() {
        let parameters = [
            "AccessKeyId": "testId", "Action": "SendSms", "Format": "XML", "OutId": "123", "PhoneNumbers": "15300000001",
            "RegionId": "cn-hangzhou", "SignName": "阿里云短信测试专用", "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466", "SignatureVersion": "1.0", "TemplateCode": "SMS_71390007",
            "TemplateParam": #"{"customer":"test"}"#, "Timestamp": "2017-07-12T02:42:19Z", "Version": "2017-05-25",
        ]
        let expected =
            "GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms%26Format%3DXML%26OutId%3D123%26PhoneNumbers%3D15300000001%26RegionId%3Dcn-hangzhou%26SignName%3D%25E9%2598%25BF%25E9%2587%258C%25E4%25BA%2591%25E7%259F%25AD%25E4%25BF%25A1%25E6%25B5%258B%25E8%25AF%2595%25E4%25B8%2593%25E7%2594%25A8%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D45e25e9b-0a6f-4070-8c85-2956eda1b466%26SignatureVersion%3D1.0%26TemplateCode%3DSMS_71390007%26TemplateParam%3D%257B%2522customer%2522%253A%2522test%2522%257D%26Timestamp%3D2017-07-12T02%253A42%253A19Z%26Version%3D2017-05-25"
        #expect(AliyunRPCSigner.stringToSign(parameters, method: "GET") == expected)
        #expect(AliyunRPCSigner.signature(parameters, method: "GET", secret: "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4=")
        // The documented trap: the lower-case secret gives another signature.
        #expect(AliyunRPCSigner.signature(parameters, method: "GET", secret: "testsecret") == "EpROzuoKhdewdxdmVWhll2qdKbk=")
        #expect(
            AliyunRPCSigner.signedQuery(parameters, method: "GET", secret: "testSecret").hasSuffix("&Signature=zJDF%2BLrzhj%2FThnlvIToysFRq6t4%3D")
        )
    }

    @Test func va2AlibabaRPCExample() {
        let parameters = [
            "AccessKeyId": "testid", "Action": "DescribeRegions", "Format": "XML", "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf", "SignatureVersion": "1.0", "Timestamp": "2016-02-23T12:46:24Z",
            "Version": "2014-05-26",
        ]
        #expect(
            AliyunRPCSigner.canonicalQuery(parameters)
                == "AccessKeyId=testid&Action=DescribeRegions&Format=XML&SignatureMethod=HMAC-SHA1&SignatureNonce=3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf&SignatureVersion=1.0&Timestamp=2016-02-23T12%3A46%3A24Z&Version=2014-05-26"
        )
        #expect(
            AliyunRPCSigner.stringToSign(parameters, method: "GET")
                == "GET&%2F&AccessKeyId%3Dtestid%26Action%3DDescribeRegions%26Format%3DXML%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3D3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf%26SignatureVersion%3D1.0%26Timestamp%3D2016-02-23T12%253A46%253A24Z%26Version%3D2014-05-26"
        )
        #expect(AliyunRPCSigner.signature(parameters, method: "GET", secret: "testsecret") == "OLeaidS1JvxuMvnyHOwuJ+uX5qY=")
    }

    @Test func va3SingleCallByVoicePOST() {
        let canonical =
            "AccessKeyId=testid&Action=SingleCallByVoice&CalledNumber=13700000000&CalledShowNumber=4001112222&Format=JSON&OutId=abcdefgh&PlayTimes=3&RegionId=cn-hangzhou&SignatureMethod=HMAC-SHA1&SignatureNonce=c0ffee00-1234-4abc-8def-0123456789ab&SignatureVersion=1.0&Timestamp=2024-01-02T03%3A04%3A05Z&Version=2017-05-25&VoiceCode=2d4c-4e78-8d2a-afbb06cf6216.wav&Volume=100"
        #expect(AliyunRPCSigner.canonicalQuery(Self.va3) == canonical)
        #expect(
            AliyunRPCSigner.stringToSign(Self.va3, method: "POST")
                == "POST&%2F&AccessKeyId%3Dtestid%26Action%3DSingleCallByVoice%26CalledNumber%3D13700000000%26CalledShowNumber%3D4001112222%26Format%3DJSON%26OutId%3Dabcdefgh%26PlayTimes%3D3%26RegionId%3Dcn-hangzhou%26SignatureMethod%3DHMAC-SHA1%26SignatureNonce%3Dc0ffee00-1234-4abc-8def-0123456789ab%26SignatureVersion%3D1.0%26Timestamp%3D2024-01-02T03%253A04%253A05Z%26Version%3D2017-05-25%26VoiceCode%3D2d4c-4e78-8d2a-afbb06cf6216.wav%26Volume%3D100"
        )
        #expect(AliyunRPCSigner.signature(Self.va3, method: "POST", secret: "testsecret") == "CCGI5LAFyPpe3gbDq7HiE6AG/pA=")
        #expect(
            AliyunRPCSigner.signedQuery(Self.va3, method: "POST", secret: "testsecret") == canonical + "&Signature=CCGI5LAFyPpe3gbDq7HiE6AG%2FpA%3D"
        )
        #expect(AliyunRPCSigner.signature(Self.va3, method: "GET", secret: "testsecret") == "FiG0OMNx73pxgkO0Abdnj+JkKik=")
        // The method is upper-cased; an existing Signature parameter is not signed.
        var withSignature = Self.va3
        withSignature["Signature"] = "anything"
        #expect(AliyunRPCSigner.signature(withSignature, method: "post", secret: "testsecret") == "CCGI5LAFyPpe3gbDq7HiE6AG/pA=")
    }

    @Test func va4MinimalPOST() {
        var parameters = Self.va3
        for key in ["RegionId", "OutId", "PlayTimes", "Volume"] { parameters[key] = nil }
        #expect(
            AliyunRPCSigner.canonicalQuery(parameters)
                == "AccessKeyId=testid&Action=SingleCallByVoice&CalledNumber=13700000000&CalledShowNumber=4001112222&Format=JSON&SignatureMethod=HMAC-SHA1&SignatureNonce=c0ffee00-1234-4abc-8def-0123456789ab&SignatureVersion=1.0&Timestamp=2024-01-02T03%3A04%3A05Z&Version=2017-05-25&VoiceCode=2d4c-4e78-8d2a-afbb06cf6216.wav"
        )
        #expect(AliyunRPCSigner.signature(parameters, method: "POST", secret: "testsecret") == "fCWL1TqPN1Cs3JT2A6J8r9BePbI=")
    }

    @Test func va5EncodingStress() {
        var parameters = Self.va3
        parameters["OutId"] = "a b*c~d+e/f"
        #expect(AliyunRPCSigner.canonicalQuery(parameters).contains("&OutId=a%20b%2Ac~d%2Be%2Ff&"))
        #expect(AliyunRPCSigner.stringToSign(parameters, method: "POST").contains("%26OutId%3Da%2520b%252Ac~d%252Be%252Ff%26"))
        #expect(AliyunRPCSigner.signature(parameters, method: "POST", secret: "testsecret") == "0hmyUEFG5Rtp5I/abliROsfu6n8=")
    }

    @Test func va6OldSDKSignatureType() {
        var parameters = Self.va3
        parameters["SignatureType"] = ""
        #expect(
            AliyunRPCSigner.canonicalQuery(parameters).contains(
                "&SignatureNonce=c0ffee00-1234-4abc-8def-0123456789ab&SignatureType=&SignatureVersion=1.0&"
            )
        )
        #expect(AliyunRPCSigner.signature(parameters, method: "POST", secret: "testsecret") == "TLxz8LZ6J+RoLsqrs9OK5n7THHM=")
    }

    @Test func keysSortByteWiseUppercaseFirst() {
        let query = AliyunRPCSigner.canonicalQuery([
            "b": "1", "B": "2", "Action": "x", "AccessKeyId": "y", "CalledShowNumber": "z", "CalledNumber": "w",
        ])
        #expect(query == "AccessKeyId=y&Action=x&B=2&CalledNumber=w&CalledShowNumber=z&b=1")
    }

    @Test func timestampIsUTCWithoutFraction() {
        // 2024-01-02T03:04:05.789Z
        let date = Date(timeIntervalSince1970: 1_704_164_645.789)
        #expect(AliyunRPCSigner.timestamp(date) == "2024-01-02T03:04:05Z")
        #expect(AliyunRPCSigner.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00Z")
    }
}
