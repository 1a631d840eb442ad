export { saveScalingPolicy as POST } from "@/lib/scaling/console";
