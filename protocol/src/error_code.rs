//! Kafka's error table: the one place error codes are defined.
//!
//! Every code of Apache Kafka's `org.apache.kafka.common.protocol.Errors`, from -1 to 133 (the
//! last code in a released Kafka, 4.1). Module error enums elsewhere map to these in exactly one
//! place each; nothing else writes an error code as a bare number.
//!
//! `is_retriable` follows Kafka's published table, which derives it from the Java exception
//! class: an error is retriable when its exception is a `RetriableException`. Since Kafka 3.4
//! that includes CONCURRENT_TRANSACTIONS (51), which older tables list as not retriable.
//!
//! Codes this table does not know (a newer broker, a corrupt frame) decode to `None` from
//! [`ErrorCode::from_code`]; callers decide whether that is UNKNOWN_SERVER_ERROR.

use std::fmt;

/// Declares the enum and its lookup functions from one line per code:
/// `Variant = code, "KAFKA_NAME", retriable;` with a doc comment.
macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal, $name:literal, $retriable:literal; )*) => {
        /// A Kafka protocol error code (the `ErrorCode` int16 of every response).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[repr(i16)]
        #[non_exhaustive]
        pub enum ErrorCode {
            $( $(#[$doc])* $variant = $code, )*
        }

        impl ErrorCode {
            /// Every known code, in ascending order of code.
            pub const ALL: &'static [ErrorCode] = &[ $( ErrorCode::$variant, )* ];

            /// The code's value on the wire.
            pub const fn code(self) -> i16 {
                self as i16
            }

            /// The error with this code, or `None` for a code this table does not know.
            pub const fn from_code(code: i16) -> Option<ErrorCode> {
                match code {
                    $( $code => Some(ErrorCode::$variant), )*
                    _ => None,
                }
            }

            /// Kafka's name for the code, e.g. `UNKNOWN_TOPIC_OR_PARTITION`.
            pub const fn name(self) -> &'static str {
                match self {
                    $( ErrorCode::$variant => $name, )*
                }
            }

            /// Whether Kafka's table marks the error retriable: the same request may succeed
            /// if sent again (possibly after a metadata refresh).
            pub const fn is_retriable(self) -> bool {
                match self {
                    $( ErrorCode::$variant => $retriable, )*
                }
            }
        }
    };
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl From<ErrorCode> for i16 {
    fn from(error: ErrorCode) -> i16 {
        error.code()
    }
}

error_codes! {
    /// An unexpected failure on the server.
    UnknownServerError = -1, "UNKNOWN_SERVER_ERROR", false;
    /// Success.
    None = 0, "NONE", false;
    /// The offset is outside the partition's retained range.
    OffsetOutOfRange = 1, "OFFSET_OUT_OF_RANGE", false;
    /// A record batch failed validation (CRC, size, null key on a compacted topic).
    CorruptMessage = 2, "CORRUPT_MESSAGE", true;
    /// This broker does not host the topic-partition.
    UnknownTopicOrPartition = 3, "UNKNOWN_TOPIC_OR_PARTITION", true;
    /// The fetch size is not valid.
    InvalidFetchSize = 4, "INVALID_FETCH_SIZE", false;
    /// The partition has no leader right now (an election is in progress).
    LeaderNotAvailable = 5, "LEADER_NOT_AVAILABLE", true;
    /// This broker is not the partition's leader (or not a replica of it).
    NotLeaderOrFollower = 6, "NOT_LEADER_OR_FOLLOWER", true;
    /// The request timed out.
    RequestTimedOut = 7, "REQUEST_TIMED_OUT", true;
    /// The broker is not available.
    BrokerNotAvailable = 8, "BROKER_NOT_AVAILABLE", false;
    /// The replica is not available for the partition.
    ReplicaNotAvailable = 9, "REPLICA_NOT_AVAILABLE", true;
    /// A message exceeds the largest size the broker accepts.
    MessageTooLarge = 10, "MESSAGE_TOO_LARGE", false;
    /// The controller has moved to another broker.
    StaleControllerEpoch = 11, "STALE_CONTROLLER_EPOCH", false;
    /// The offset commit metadata is too large.
    OffsetMetadataTooLarge = 12, "OFFSET_METADATA_TOO_LARGE", false;
    /// The connection closed before a response arrived.
    NetworkException = 13, "NETWORK_EXCEPTION", true;
    /// The coordinator is still loading its state.
    CoordinatorLoadInProgress = 14, "COORDINATOR_LOAD_IN_PROGRESS", true;
    /// The coordinator is not available.
    CoordinatorNotAvailable = 15, "COORDINATOR_NOT_AVAILABLE", true;
    /// This broker is not the coordinator for the key.
    NotCoordinator = 16, "NOT_COORDINATOR", true;
    /// The operation named an invalid topic.
    InvalidTopicException = 17, "INVALID_TOPIC_EXCEPTION", false;
    /// A batch is larger than the segment size.
    RecordListTooLarge = 18, "RECORD_LIST_TOO_LARGE", false;
    /// Too few in-sync replicas to accept the write.
    NotEnoughReplicas = 19, "NOT_ENOUGH_REPLICAS", true;
    /// The write was appended but reached too few in-sync replicas.
    NotEnoughReplicasAfterAppend = 20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", true;
    /// The produce acks value is not valid.
    InvalidRequiredAcks = 21, "INVALID_REQUIRED_ACKS", false;
    /// The group generation is not current.
    IllegalGeneration = 22, "ILLEGAL_GENERATION", false;
    /// The member's protocols do not match the group's.
    InconsistentGroupProtocol = 23, "INCONSISTENT_GROUP_PROTOCOL", false;
    /// The group id is not valid.
    InvalidGroupId = 24, "INVALID_GROUP_ID", false;
    /// The coordinator does not know this member.
    UnknownMemberId = 25, "UNKNOWN_MEMBER_ID", false;
    /// The session timeout is outside the broker's allowed range.
    InvalidSessionTimeout = 26, "INVALID_SESSION_TIMEOUT", false;
    /// The group is rebalancing; the member must rejoin.
    RebalanceInProgress = 27, "REBALANCE_IN_PROGRESS", false;
    /// The committed offset data size is not valid.
    InvalidCommitOffsetSize = 28, "INVALID_COMMIT_OFFSET_SIZE", false;
    /// Not authorized for the topic.
    TopicAuthorizationFailed = 29, "TOPIC_AUTHORIZATION_FAILED", false;
    /// Not authorized for the group.
    GroupAuthorizationFailed = 30, "GROUP_AUTHORIZATION_FAILED", false;
    /// Not authorized for the cluster operation.
    ClusterAuthorizationFailed = 31, "CLUSTER_AUTHORIZATION_FAILED", false;
    /// A record timestamp is outside the accepted range.
    InvalidTimestamp = 32, "INVALID_TIMESTAMP", false;
    /// The SASL mechanism is not supported.
    UnsupportedSaslMechanism = 33, "UNSUPPORTED_SASL_MECHANISM", false;
    /// The request is not valid in the current SASL state.
    IllegalSaslState = 34, "ILLEGAL_SASL_STATE", false;
    /// The API version is not supported.
    UnsupportedVersion = 35, "UNSUPPORTED_VERSION", false;
    /// The topic already exists.
    TopicAlreadyExists = 36, "TOPIC_ALREADY_EXISTS", false;
    /// The partition count is not valid.
    InvalidPartitions = 37, "INVALID_PARTITIONS", false;
    /// The replication factor is not valid.
    InvalidReplicationFactor = 38, "INVALID_REPLICATION_FACTOR", false;
    /// The replica assignment is not valid.
    InvalidReplicaAssignment = 39, "INVALID_REPLICA_ASSIGNMENT", false;
    /// The configuration is not valid.
    InvalidConfig = 40, "INVALID_CONFIG", false;
    /// This node is not the active controller.
    NotController = 41, "NOT_CONTROLLER", true;
    /// The request is malformed or not understood by this broker.
    InvalidRequest = 42, "INVALID_REQUEST", false;
    /// The broker's message format does not support the request.
    UnsupportedForMessageFormat = 43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", false;
    /// The request violates a configured policy.
    PolicyViolation = 44, "POLICY_VIOLATION", false;
    /// A producer sequence number arrived out of order.
    OutOfOrderSequenceNumber = 45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false;
    /// A producer sequence number was already written.
    DuplicateSequenceNumber = 46, "DUPLICATE_SEQUENCE_NUMBER", false;
    /// The producer epoch is older than the current one.
    InvalidProducerEpoch = 47, "INVALID_PRODUCER_EPOCH", false;
    /// The transactional operation is not valid in the current state.
    InvalidTxnState = 48, "INVALID_TXN_STATE", false;
    /// The producer id is not the one assigned to the transactional id.
    InvalidProducerIdMapping = 49, "INVALID_PRODUCER_ID_MAPPING", false;
    /// The transaction timeout exceeds the broker's maximum.
    InvalidTransactionTimeout = 50, "INVALID_TRANSACTION_TIMEOUT", false;
    /// Another operation on the same transaction is in progress.
    ConcurrentTransactions = 51, "CONCURRENT_TRANSACTIONS", true;
    /// The transaction coordinator writing markers has been superseded.
    TransactionCoordinatorFenced = 52, "TRANSACTION_COORDINATOR_FENCED", false;
    /// Not authorized for the transactional id.
    TransactionalIdAuthorizationFailed = 53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", false;
    /// Security features are disabled.
    SecurityDisabled = 54, "SECURITY_DISABLED", false;
    /// Not attempted because another part of the batched request failed.
    OperationNotAttempted = 55, "OPERATION_NOT_ATTEMPTED", false;
    /// A disk error while accessing the log.
    KafkaStorageError = 56, "KAFKA_STORAGE_ERROR", true;
    /// The log directory is not configured on the broker.
    LogDirNotFound = 57, "LOG_DIR_NOT_FOUND", false;
    /// SASL authentication failed.
    SaslAuthenticationFailed = 58, "SASL_AUTHENTICATION_FAILED", false;
    /// The broker has no state for this producer id.
    UnknownProducerId = 59, "UNKNOWN_PRODUCER_ID", false;
    /// A partition reassignment is in progress.
    ReassignmentInProgress = 60, "REASSIGNMENT_IN_PROGRESS", false;
    /// Delegation tokens are not enabled.
    DelegationTokenAuthDisabled = 61, "DELEGATION_TOKEN_AUTH_DISABLED", false;
    /// The delegation token does not exist.
    DelegationTokenNotFound = 62, "DELEGATION_TOKEN_NOT_FOUND", false;
    /// The principal is not the token's owner or renewer.
    DelegationTokenOwnerMismatch = 63, "DELEGATION_TOKEN_OWNER_MISMATCH", false;
    /// Delegation token requests are not allowed on this channel.
    DelegationTokenRequestNotAllowed = 64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", false;
    /// Not authorized for the delegation token.
    DelegationTokenAuthorizationFailed = 65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", false;
    /// The delegation token has expired.
    DelegationTokenExpired = 66, "DELEGATION_TOKEN_EXPIRED", false;
    /// The principal type is not supported.
    InvalidPrincipalType = 67, "INVALID_PRINCIPAL_TYPE", false;
    /// The group still has members.
    NonEmptyGroup = 68, "NON_EMPTY_GROUP", false;
    /// The group does not exist.
    GroupIdNotFound = 69, "GROUP_ID_NOT_FOUND", false;
    /// The fetch session does not exist.
    FetchSessionIdNotFound = 70, "FETCH_SESSION_ID_NOT_FOUND", true;
    /// The fetch session epoch does not match.
    InvalidFetchSessionEpoch = 71, "INVALID_FETCH_SESSION_EPOCH", true;
    /// The leader has no listener matching the one the metadata came from.
    ListenerNotFound = 72, "LISTENER_NOT_FOUND", true;
    /// Topic deletion is disabled.
    TopicDeletionDisabled = 73, "TOPIC_DELETION_DISABLED", false;
    /// The request's leader epoch is older than the broker's.
    FencedLeaderEpoch = 74, "FENCED_LEADER_EPOCH", true;
    /// The request's leader epoch is newer than the broker's.
    UnknownLeaderEpoch = 75, "UNKNOWN_LEADER_EPOCH", true;
    /// The client cannot read the partition's compression type.
    UnsupportedCompressionType = 76, "UNSUPPORTED_COMPRESSION_TYPE", false;
    /// The broker epoch has changed.
    StaleBrokerEpoch = 77, "STALE_BROKER_EPOCH", false;
    /// The new leader's high watermark has not caught up yet.
    OffsetNotAvailable = 78, "OFFSET_NOT_AVAILABLE", true;
    /// The member must obtain a member id before joining.
    MemberIdRequired = 79, "MEMBER_ID_REQUIRED", false;
    /// The preferred leader is not available.
    PreferredLeaderNotAvailable = 80, "PREFERRED_LEADER_NOT_AVAILABLE", true;
    /// The group has reached its maximum size.
    GroupMaxSizeReached = 81, "GROUP_MAX_SIZE_REACHED", false;
    /// Another member registered with the same static instance id.
    FencedInstanceId = 82, "FENCED_INSTANCE_ID", false;
    /// No eligible leaders are available for the partition.
    EligibleLeadersNotAvailable = 83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", true;
    /// The partition does not need a leader election.
    ElectionNotNeeded = 84, "ELECTION_NOT_NEEDED", true;
    /// No partition reassignment is in progress.
    NoReassignmentInProgress = 85, "NO_REASSIGNMENT_IN_PROGRESS", false;
    /// The group is subscribed to the topic whose offsets would be deleted.
    GroupSubscribedToTopic = 86, "GROUP_SUBSCRIBED_TO_TOPIC", false;
    /// A record failed broker-side validation.
    InvalidRecord = 87, "INVALID_RECORD", false;
    /// Pending transactional offsets must be resolved first.
    UnstableOffsetCommit = 88, "UNSTABLE_OFFSET_COMMIT", true;
    /// The throttling quota was exceeded.
    ThrottlingQuotaExceeded = 89, "THROTTLING_QUOTA_EXCEEDED", true;
    /// A newer producer with the same transactional id exists.
    ProducerFenced = 90, "PRODUCER_FENCED", false;
    /// The request named a resource that does not exist.
    ResourceNotFound = 91, "RESOURCE_NOT_FOUND", false;
    /// The request named the same resource twice.
    DuplicateResource = 92, "DUPLICATE_RESOURCE", false;
    /// The credential does not meet the acceptance criteria.
    UnacceptableCredential = 93, "UNACCEPTABLE_CREDENTIAL", false;
    /// The sender or receiver of a voter request is not an expected voter.
    InconsistentVoterSet = 94, "INCONSISTENT_VOTER_SET", false;
    /// The update version is not valid.
    InvalidUpdateVersion = 95, "INVALID_UPDATE_VERSION", false;
    /// Finalized features could not be updated.
    FeatureUpdateFailed = 96, "FEATURE_UPDATE_FAILED", false;
    /// A forwarded request's principal could not be deserialized.
    PrincipalDeserializationFailure = 97, "PRINCIPAL_DESERIALIZATION_FAILURE", false;
    /// The snapshot does not exist.
    SnapshotNotFound = 98, "SNAPSHOT_NOT_FOUND", false;
    /// The snapshot position is out of range.
    PositionOutOfRange = 99, "POSITION_OUT_OF_RANGE", false;
    /// This broker does not host the topic id.
    UnknownTopicId = 100, "UNKNOWN_TOPIC_ID", true;
    /// The broker id is already registered.
    DuplicateBrokerRegistration = 101, "DUPLICATE_BROKER_REGISTRATION", false;
    /// The broker id is not registered.
    BrokerIdNotRegistered = 102, "BROKER_ID_NOT_REGISTERED", false;
    /// The log's topic id differs from the request's.
    InconsistentTopicId = 103, "INCONSISTENT_TOPIC_ID", true;
    /// The request's cluster id differs from the server's.
    InconsistentClusterId = 104, "INCONSISTENT_CLUSTER_ID", false;
    /// The transactional id does not exist.
    TransactionalIdNotFound = 105, "TRANSACTIONAL_ID_NOT_FOUND", false;
    /// The fetch session used topic ids inconsistently.
    FetchSessionTopicIdError = 106, "FETCH_SESSION_TOPIC_ID_ERROR", true;
    /// The new ISR contains an ineligible replica.
    IneligibleReplica = 107, "INELIGIBLE_REPLICA", false;
    /// The partition state was updated, but the leader has changed.
    NewLeaderElected = 108, "NEW_LEADER_ELECTED", false;
    /// The offset has moved to tiered storage.
    OffsetMovedToTieredStorage = 109, "OFFSET_MOVED_TO_TIERED_STORAGE", false;
    /// The member epoch is fenced; the member must rejoin.
    FencedMemberEpoch = 110, "FENCED_MEMBER_EPOCH", false;
    /// Another member still holds the static instance id.
    UnreleasedInstanceId = 111, "UNRELEASED_INSTANCE_ID", false;
    /// The group does not support the assignor.
    UnsupportedAssignor = 112, "UNSUPPORTED_ASSIGNOR", false;
    /// The member epoch is stale.
    StaleMemberEpoch = 113, "STALE_MEMBER_EPOCH", false;
    /// The request reached an endpoint of the wrong type.
    MismatchedEndpointType = 114, "MISMATCHED_ENDPOINT_TYPE", false;
    /// The endpoint type is not supported.
    UnsupportedEndpointType = 115, "UNSUPPORTED_ENDPOINT_TYPE", false;
    /// The controller id is not known.
    UnknownControllerId = 116, "UNKNOWN_CONTROLLER_ID", false;
    /// The telemetry subscription id is unknown or outdated.
    UnknownSubscriptionId = 117, "UNKNOWN_SUBSCRIPTION_ID", false;
    /// The telemetry push is larger than the broker accepts.
    TelemetryTooLarge = 118, "TELEMETRY_TOO_LARGE", false;
    /// The controller rejected the broker registration.
    InvalidRegistration = 119, "INVALID_REGISTRATION", false;
    /// The transaction failed; aborting it lets the transactional id be used again.
    TransactionAbortable = 120, "TRANSACTION_ABORTABLE", false;
    /// The record's delivery state does not allow the acknowledgement.
    InvalidRecordState = 121, "INVALID_RECORD_STATE", false;
    /// The share session does not exist.
    ShareSessionNotFound = 122, "SHARE_SESSION_NOT_FOUND", true;
    /// The share session epoch does not match.
    InvalidShareSessionEpoch = 123, "INVALID_SHARE_SESSION_EPOCH", true;
    /// The share-group state epoch does not match.
    FencedStateEpoch = 124, "FENCED_STATE_EPOCH", false;
    /// The voter key does not match the receiving replica.
    InvalidVoterKey = 125, "INVALID_VOTER_KEY", false;
    /// The voter is already in the voter set.
    DuplicateVoter = 126, "DUPLICATE_VOTER", false;
    /// The voter is not in the voter set.
    VoterNotFound = 127, "VOTER_NOT_FOUND", false;
    /// The regular expression is not valid.
    InvalidRegularExpression = 128, "INVALID_REGULAR_EXPRESSION", false;
    /// The client's metadata is stale; it must bootstrap again.
    RebootstrapRequired = 129, "REBOOTSTRAP_REQUIRED", false;
    /// The Streams topology is not valid.
    StreamsInvalidTopology = 130, "STREAMS_INVALID_TOPOLOGY", false;
    /// The Streams topology epoch is not valid.
    StreamsInvalidTopologyEpoch = 131, "STREAMS_INVALID_TOPOLOGY_EPOCH", false;
    /// The Streams topology epoch is outdated.
    StreamsTopologyFenced = 132, "STREAMS_TOPOLOGY_FENCED", false;
    /// The broker's share-session limit is reached.
    ShareSessionLimitReached = 133, "SHARE_SESSION_LIMIT_REACHED", true;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_ascending_and_contiguous() {
        let codes: Vec<i16> = ErrorCode::ALL.iter().map(|e| e.code()).collect();
        let expected: Vec<i16> = (-1..=133).collect();
        assert_eq!(codes, expected);
    }

    #[test]
    fn names_are_unique() {
        let names: HashSet<&str> = ErrorCode::ALL.iter().map(|e| e.name()).collect();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn names_are_the_variant_in_upper_snake_case() {
        for error in ErrorCode::ALL {
            let mut snake = String::new();
            for (i, c) in format!("{error:?}").chars().enumerate() {
                if c.is_ascii_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_uppercase());
            }
            assert_eq!(error.name(), snake);
        }
    }

    #[test]
    fn from_code_round_trips() {
        for &error in ErrorCode::ALL {
            assert_eq!(ErrorCode::from_code(error.code()), Some(error));
            assert_eq!(i16::from(error), error.code());
        }
    }

    #[test]
    fn unknown_codes_are_none() {
        for code in [i16::MIN, -3, -2, 134, 1000, i16::MAX] {
            assert_eq!(ErrorCode::from_code(code), None, "code {code}");
        }
    }

    #[test]
    fn well_known_codes() {
        let cases = [
            (-1, "UNKNOWN_SERVER_ERROR", false),
            (0, "NONE", false),
            (1, "OFFSET_OUT_OF_RANGE", false),
            (2, "CORRUPT_MESSAGE", true),
            (3, "UNKNOWN_TOPIC_OR_PARTITION", true),
            (6, "NOT_LEADER_OR_FOLLOWER", true),
            (7, "REQUEST_TIMED_OUT", true),
            (10, "MESSAGE_TOO_LARGE", false),
            (16, "NOT_COORDINATOR", true),
            (27, "REBALANCE_IN_PROGRESS", false),
            (35, "UNSUPPORTED_VERSION", false),
            (45, "OUT_OF_ORDER_SEQUENCE_NUMBER", false),
            (46, "DUPLICATE_SEQUENCE_NUMBER", false),
            (47, "INVALID_PRODUCER_EPOCH", false),
            (51, "CONCURRENT_TRANSACTIONS", true),
            (56, "KAFKA_STORAGE_ERROR", true),
            (79, "MEMBER_ID_REQUIRED", false),
            (82, "FENCED_INSTANCE_ID", false),
            (90, "PRODUCER_FENCED", false),
            (100, "UNKNOWN_TOPIC_ID", true),
            (120, "TRANSACTION_ABORTABLE", false),
            (121, "INVALID_RECORD_STATE", false),
            (122, "SHARE_SESSION_NOT_FOUND", true),
            (133, "SHARE_SESSION_LIMIT_REACHED", true),
        ];
        for (code, name, retriable) in cases {
            let error = ErrorCode::from_code(code).expect("known code");
            assert_eq!(error.name(), name, "code {code}");
            assert_eq!(error.is_retriable(), retriable, "code {code}");
        }
        assert_eq!(ErrorCode::UnknownTopicOrPartition as i16, 3);
        assert_eq!(ErrorCode::UnsupportedVersion.code(), 35);
    }

    #[test]
    fn retriable_set_matches_kafka() {
        let retriable: Vec<i16> = ErrorCode::ALL
            .iter()
            .filter(|e| e.is_retriable())
            .map(|e| e.code())
            .collect();
        let expected = [
            2, 3, 5, 6, 7, 9, 13, 14, 15, 16, 19, 20, 41, 51, 56, 70, 71, 72, 74, 75, 78, 80, 83,
            84, 88, 89, 100, 103, 106, 122, 123, 133,
        ];
        assert_eq!(retriable, expected);
    }

    #[test]
    fn display_shows_name_and_code() {
        assert_eq!(
            ErrorCode::UnknownTopicOrPartition.to_string(),
            "UNKNOWN_TOPIC_OR_PARTITION (3)"
        );
    }
}
