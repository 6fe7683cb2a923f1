-- wrk: POST the documentation's friend-request sample (Sns.CallbackPrevFriendAdd).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"CallbackCommand":"Sns.CallbackPrevFriendAdd","Requester_Account":"id","From_Account":"id","FriendItem":[{"To_Account":"id1","Remark":"remark1","GroupName":"group1","AddSource":"AddSource_Type_Android","AddWording":"this is id1!"},{"To_Account":"id2","Remark":"remark2","GroupName":"group1","AddSource":"AddSource_Type_Android","AddWording":"this is id2!"}],"AddType":"Add_Type_Both","ForceAddFlags":0,"EventTime":1631777344870}'
